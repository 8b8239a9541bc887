"""Writes a small Pascal VOC dataset of coloured shapes (squares, discs,
triangles on a noisy background) that the tiny detector learns in seconds:
ROOT/JPEGImages/*.jpg, ROOT/Annotations/*.xml, ROOT/ImageSets/Main/{train,val}.txt.
Every 7th object is marked difficult. Deterministic (seeded).

Usage: python3 make_shapes_voc.py ROOT
"""
import os
import random
import sys

from PIL import Image, ImageDraw

CLASSES = ["square", "disc", "triangle"]
COLOURS = [(220, 40, 40), (40, 200, 60), (50, 80, 230)]
SIZE = 128


def draw(d, kind, box):
    x0, y0, x1, y1 = box
    if kind == 0:
        d.rectangle(box, fill=COLOURS[0])
    elif kind == 1:
        d.ellipse(box, fill=COLOURS[1])
    else:
        d.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=COLOURS[2])


def xml(name, objects):
    items = "".join(
        f"<object><name>{CLASSES[k]}</name><difficult>{diff}</difficult>"
        f"<bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>"
        for k, b, diff in objects)
    return (f"<annotation><filename>{name}.jpg</filename><size><width>{SIZE}</width><height>{SIZE}</height>"
            f"<depth>3</depth></size>{items}</annotation>\n")


def main(root):
    rng = random.Random(10)
    for sub in ("JPEGImages", "Annotations", "ImageSets/Main"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    names, n_objects = [], 0
    for i in range(96):
        name = f"shapes_{i:03d}"
        img = Image.new("RGB", (SIZE, SIZE))
        img.putdata([tuple(rng.randrange(90, 140) for _ in range(3)) for _ in range(SIZE * SIZE)])
        d = ImageDraw.Draw(img)
        objects = []
        for _ in range(rng.randint(1, 3)):
            side = rng.randint(24, 44)
            x0, y0 = rng.randint(0, SIZE - side - 1), rng.randint(0, SIZE - side - 1)
            box = (x0, y0, x0 + side, y0 + side)
            if any(not (box[2] < b[0] or b[2] < box[0] or box[3] < b[1] or b[3] < box[1]) for _, b, _ in objects):
                continue  # no overlaps: the tiny detector has a single scale
            kind = rng.randrange(3)
            draw(d, kind, box)
            objects.append((kind, box, 1 if n_objects % 7 == 6 else 0))
            n_objects += 1
        img.save(os.path.join(root, "JPEGImages", name + ".jpg"), quality=95)
        with open(os.path.join(root, "Annotations", name + ".xml"), "w") as f:
            f.write(xml(name, objects))
        names.append(name)
    with open(os.path.join(root, "ImageSets/Main/train.txt"), "w") as f:
        f.write("\n".join(names[:64]) + "\n")
    with open(os.path.join(root, "ImageSets/Main/val.txt"), "w") as f:
        f.write("\n".join(names[64:]) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
