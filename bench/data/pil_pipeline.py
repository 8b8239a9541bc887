"""The PIL side of bench_loader: coco128 images decoded, resized and flipped
like our pipelines (yolo: 640 longest side + letterbox-free resize; mmdet:
1333x800 keep-ratio), with `workers` torch DataLoader workers.
Usage: pil_pipeline.py yolo|mmdet WORKERS EPOCHS COCO128_DIR; prints "PIL <images/s>"."""
import glob, random, sys, time

import numpy as np
import torch
from PIL import Image


class Images(torch.utils.data.Dataset):
    def __init__(self, paths, mode):
        self.paths, self.mode = paths, mode

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        im = Image.open(self.paths[i]).convert("RGB")
        w, h = im.size
        s = 640 / max(w, h) if self.mode == "yolo" else min(1333 / max(w, h), 800 / min(w, h))
        im = im.resize((round(w * s), round(h * s)), Image.BILINEAR)
        if random.random() < 0.5:
            im = im.transpose(Image.FLIP_LEFT_RIGHT)
        a = np.asarray(im, dtype=np.float32)
        if self.mode == "mmdet":
            a = (a - np.array([123.675, 116.28, 103.53], np.float32)) / np.array([58.395, 57.12, 57.375], np.float32)
        return torch.from_numpy(a.copy())


def main():
    mode, workers, epochs, root = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    torch.set_num_threads(1)
    paths = sorted(glob.glob(root + "/images/train2017/*.jpg"))
    dl = torch.utils.data.DataLoader(Images(paths, mode), batch_size=8, shuffle=True, num_workers=workers,
                                     collate_fn=lambda b: b, persistent_workers=True)
    for _ in dl:  # warm-up epoch, as on our side
        pass
    t0, n = time.perf_counter(), 0
    for _ in range(epochs):
        for b in dl:
            n += len(b)
    print(f"PIL {n / (time.perf_counter() - t0):.1f}")


if __name__ == "__main__":
    main()
