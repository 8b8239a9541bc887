"""Writes a small CSV detection dataset for the tp_csv example plugin:
OUT/images/*.png (filled rectangles, ellipses and triangles on noise) and
OUT/train.csv, OUT/val.csv with one line `image,x1,y1,x2,y2,class` per box.
One image has no objects (its line has empty box fields). Deterministic.
Usage: make_csv_data.py OUT [N_TRAIN N_VAL]"""
import os
import random
import sys

from PIL import Image, ImageDraw

SIZE = 128
CLASSES = ["ellipse", "rectangle", "triangle"]


def draw_image(rng, path):
    img = Image.new("RGB", (SIZE, SIZE))
    img.putdata([tuple(rng.randrange(60, 120) for _ in range(3)) for _ in range(SIZE * SIZE)])
    d = ImageDraw.Draw(img)
    boxes = []
    for _ in range(rng.randrange(1, 4)):
        w, h = rng.randrange(20, 48), rng.randrange(20, 48)
        x1, y1 = rng.randrange(0, SIZE - w), rng.randrange(0, SIZE - h)
        x2, y2 = x1 + w, y1 + h
        cls = rng.choice(CLASSES)
        color = tuple(rng.randrange(160, 256) for _ in range(3))
        if cls == "rectangle":
            d.rectangle([x1, y1, x2 - 1, y2 - 1], fill=color)
        elif cls == "ellipse":
            d.ellipse([x1, y1, x2 - 1, y2 - 1], fill=color)
        else:
            d.polygon([(x1, y2 - 1), ((x1 + x2) / 2, y1), (x2 - 1, y2 - 1)], fill=color)
        boxes.append((x1, y1, x2, y2, cls))
    img.save(path)
    return boxes


def write_split(rng, out, name, n, empty_first):
    lines = ["image,x1,y1,x2,y2,class"]
    for i in range(n):
        image = f"{name}_{i:03d}.png"
        path = os.path.join(out, "images", image)
        if empty_first and i == 0:
            Image.new("RGB", (SIZE, SIZE), (90, 90, 90)).save(path)
            lines.append(f"{image},,,,,")
            continue
        lines += [f"{image},{x1},{y1},{x2},{y2},{cls}" for x1, y1, x2, y2, cls in draw_image(rng, path)]
    # Lines of one image need not be adjacent: the reader groups them.
    lines[1:] = sorted(lines[1:], key=lambda l: (l.split(",")[5], l))
    with open(os.path.join(out, f"{name}.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    out = sys.argv[1]
    n_train = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    n_val = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    rng = random.Random(7)
    write_split(rng, out, "train", n_train, empty_first=True)
    write_split(rng, out, "val", n_val, empty_first=False)


main()
