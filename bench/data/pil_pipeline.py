"""The PIL side of bench_loader: the same work as our pipelines, in PIL and numpy, with `workers` torch
DataLoader workers.
  yolo:  YOLOv5's load_mosaic + random_perspective + augment_hsv + flip, cv2-free: 4 decoded images on a
         1280x1280 canvas filled with 114, an affine warp back to 640x640 with PIL's Image.transform
         (bilinear), HSV gains through PIL's HSV mode and numpy, a horizontal flip with p = 0.5;
  mmdet: decode, resize to 1333x800 keep-ratio (bilinear), flip, normalize, pad to a multiple of 32.
Boxes are not carried on either side of the comparison's PIL half (they are a few dozen floats per image).
Usage: pil_pipeline.py yolo|mmdet WORKERS EPOCHS COCO128_DIR; prints "PIL <images/s>"."""
import glob, math, random, sys, time

import numpy as np
import torch
from PIL import Image

TILE = 640


def mosaic(paths, i):
    """YOLOv5 load_mosaic: the image and 3 random others around a random centre of a 2x canvas."""
    canvas = Image.new("RGB", (2 * TILE, 2 * TILE), (114, 114, 114))
    xc, yc = (int(random.uniform(TILE * 0.5, TILE * 1.5)) for _ in range(2))
    for q, k in enumerate([i] + random.choices(range(len(paths)), k=3)):
        im = Image.open(paths[k]).convert("RGB")
        w, h = im.size
        if q == 0:
            box = (max(xc - w, 0), max(yc - h, 0), xc, yc)
            src = (w - (box[2] - box[0]), h - (box[3] - box[1]))
        elif q == 1:
            box = (xc, max(yc - h, 0), min(xc + w, 2 * TILE), yc)
            src = (0, h - (box[3] - box[1]))
        elif q == 2:
            box = (max(xc - w, 0), yc, xc, min(2 * TILE, yc + h))
            src = (w - (box[2] - box[0]), 0)
        else:
            box = (xc, yc, min(xc + w, 2 * TILE), min(2 * TILE, yc + h))
            src = (0, 0)
        part = im.crop((src[0], src[1], src[0] + box[2] - box[0], src[1] + box[3] - box[1]))
        canvas.paste(part, box[:2])
    return canvas


def affine(im):
    """random_perspective without perspective: scale 0.5..1.5, translate 0.1, to 640x640 (default hyps)."""
    s, a = random.uniform(0.5, 1.5), 0.0
    tx, ty = (random.uniform(0.5 - 0.1, 0.5 + 0.1) * TILE for _ in range(2))
    c, sn = s * math.cos(a), s * math.sin(a)
    # forward: out = M (in - centre) + t; PIL wants the inverse (output -> input)
    cx, cy = im.size[0] / 2, im.size[1] / 2
    det = c * c + sn * sn
    ia, ib, id_, ie = c / det, sn / det, -sn / det, c / det
    inv = (ia, ib, cx - ia * tx - ib * ty, id_, ie, cy - id_ * tx - ie * ty)
    return im.transform((TILE, TILE), Image.AFFINE, inv, resample=Image.BILINEAR, fillcolor=(114, 114, 114))


def hsv(im, gains=(0.015, 0.7, 0.4)):
    """augment_hsv: multiply H, S, V by 1 + uniform(-g, g) through lookup tables."""
    r = np.random.uniform(-1, 1, 3) * gains + 1
    h, s, v = (np.asarray(ch) for ch in im.convert("HSV").split())
    x = np.arange(0, 256, dtype=r.dtype)
    lut_h = ((x * r[0]) % 256).astype(np.uint8)  # PIL's hue is 0..255
    lut_s = np.clip(x * r[1], 0, 255).astype(np.uint8)
    lut_v = np.clip(x * r[2], 0, 255).astype(np.uint8)
    planes = [Image.fromarray(lut[ch]) for lut, ch in ((lut_h, h), (lut_s, s), (lut_v, v))]
    return Image.merge("HSV", planes).convert("RGB")


class Images(torch.utils.data.Dataset):
    def __init__(self, paths, mode):
        self.paths, self.mode = paths, mode

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        if self.mode == "yolo":
            im = hsv(affine(mosaic(self.paths, i)))
            if random.random() < 0.5:
                im = im.transpose(Image.FLIP_LEFT_RIGHT)
            a = np.asarray(im, dtype=np.float32) / 255.0
            return torch.from_numpy(a.copy())
        im = Image.open(self.paths[i]).convert("RGB")
        w, h = im.size
        s = min(1333 / max(w, h), 800 / min(w, h))
        im = im.resize((round(w * s), round(h * s)), Image.BILINEAR)
        if random.random() < 0.5:
            im = im.transpose(Image.FLIP_LEFT_RIGHT)
        a = np.asarray(im, dtype=np.float32)
        a = (a - np.array([123.675, 116.28, 103.53], np.float32)) / np.array([58.395, 57.12, 57.375], np.float32)
        ph, pw = -a.shape[0] % 32, -a.shape[1] % 32
        return torch.from_numpy(np.pad(a, ((0, ph), (0, pw), (0, 0))))


def main():
    mode, workers, epochs, root = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    torch.set_num_threads(1)
    paths = sorted(glob.glob(root + "/images/train2017/*.jpg"))
    dl = torch.utils.data.DataLoader(Images(paths, mode), batch_size=8, shuffle=True, num_workers=workers,
                                     collate_fn=lambda b: b, persistent_workers=True,
                                     worker_init_fn=lambda k: (random.seed(k), np.random.seed(k)))
    for _ in dl:  # warm-up epoch, as on our side
        pass
    t0, n = time.perf_counter(), 0
    for _ in range(epochs):
        for b in dl:
            n += len(b)
    print(f"PIL {n / (time.perf_counter() - t0):.1f}")


if __name__ == "__main__":
    main()
