"""`workbench eval --json` against pycocotools itself.

Generates detection sets deterministically on the shared coco128 ground truth
(perfect, jittered, shuffled scores, missing classes, crowd hits, many false
positives with tied scores and more than 100 per image), runs pycocotools'
loadRes + COCOeval('bbox') on each, and our CLI, and requires every one of the
12 numbers and every per-category AP to agree to 1e-6 (both are float64 with
the same operations; only the order of the final means differs, ~1e-16).
Also checks the hand-made case in tests/eval/data.

Usage: python3 coco_parity.py WORKBENCH_BIN SOURCE_DIR WORK_DIR
Needs pycocotools in the pyenv python3 (pip install pycocotools).
"""
import contextlib
import io
import json
import os
import random
import subprocess
import sys

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

TOL = 1e-6
STATS = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]


def jitter(box, rng, frac):
    x, y, w, h = box
    return [x + rng.gauss(0, frac * w), y + rng.gauss(0, frac * h),
            max(0.5, w * (1 + rng.gauss(0, frac))), max(0.5, h * (1 + rng.gauss(0, frac)))]


def det(ann_or_img, cat, box, score):
    return {"image_id": ann_or_img, "category_id": cat, "bbox": [round(v, 2) for v in box], "score": score}


def perfect(gt, rng):
    return [det(a["image_id"], a["category_id"], a["bbox"], 1.0) for a in gt["annotations"] if not a["iscrowd"]]


def jittered(gt, rng):
    out = []
    for a in gt["annotations"]:
        if a["iscrowd"] or rng.random() < 0.15:
            continue
        cat = a["category_id"]
        if rng.random() < 0.1:  # a wrong class now and then
            cat = rng.choice(gt["categories"])["id"]
        out.append(det(a["image_id"], cat, jitter(a["bbox"], rng, 0.15), round(rng.random(), 4)))
    return out


def shuffled_scores(gt, rng):
    out = jittered(gt, rng)
    scores = [d["score"] for d in out]
    rng.shuffle(scores)
    for d, s in zip(out, scores):
        d["score"] = s
    return out


def missing_classes(gt, rng):
    cats = sorted(c["id"] for c in gt["categories"])
    kept = set(rng.sample(cats, len(cats) // 2))
    out = [d for d in jittered(gt, rng) if d["category_id"] in kept]
    # Ids that are not categories of the ground truth (COCO's gaps): ignored by both.
    out += [det(gt["images"][i]["id"], bad, [10, 10, 50, 50], 0.99) for i, bad in enumerate([12, 26, 200])]
    return out


def crowd_hits(gt, rng):
    out = jittered(gt, rng)
    for a in gt["annotations"]:
        if not a["iscrowd"]:
            continue
        x, y, w, h = a["bbox"]
        for _ in range(12):  # boxes inside the crowd region, and some straddling its border
            bw, bh = w * rng.uniform(0.05, 0.4), h * rng.uniform(0.05, 0.4)
            bx, by = x + rng.uniform(-0.2, 1.0) * w, y + rng.uniform(-0.2, 1.0) * h
            out.append(det(a["image_id"], a["category_id"], [bx, by, bw, bh], round(rng.random(), 3)))
    return out


def false_positives(gt, rng):
    """Scores on a 0.05 grid (many ties, across and within images), duplicates,
    and 130 boxes of one category on some images (maxDets 100 cuts)."""
    out = [dict(d, score=round(rng.randint(1, 20) * 0.05, 2)) for d in jittered(gt, rng)]
    imgs = {i["id"]: i for i in gt["images"]}
    cats = [c["id"] for c in gt["categories"]]
    for n, img_id in enumerate(sorted(imgs)):
        W, H = imgs[img_id]["width"], imgs[img_id]["height"]
        count = 130 if n % 16 == 0 else 25
        cat = rng.choice(cats)
        for _ in range(count):
            w, h = rng.uniform(4, W / 2), rng.uniform(4, H / 2)
            box = [rng.uniform(0, W - w), rng.uniform(0, H - h), w, h]
            c = cat if count == 130 else rng.choice(cats)
            out.append(det(img_id, c, box, round(rng.randint(1, 20) * 0.05, 2)))
    out += [dict(d) for d in out[:200:7]]  # exact duplicates
    return out


GENERATORS = [perfect, jittered, shuffled_scores, missing_classes, crowd_hits, false_positives]


def pycocotools_eval(gt_path, res_path):
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(gt_path)
        dets = coco.loadRes(res_path)
        e = COCOeval(coco, dets, "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    per_cat = {}
    for k, cat in enumerate(e.params.catIds):
        p = e.eval["precision"][:, :, k, 0, -1]
        p = p[p > -1]
        per_cat[cat] = float(p.mean()) if p.size else -1.0
    return [float(s) for s in e.stats], per_cat


def workbench_eval(binary, gt_path, res_path):
    run = subprocess.run([binary, "eval", "--gt", gt_path, "--results", res_path, "--json"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"workbench eval failed ({run.returncode}): {run.stderr}")
    out = json.loads(run.stdout)
    return [out[s] for s in STATS], {c["id"]: c["AP"] for c in out["per_category"]}


def compare(name, gt_path, res_path, binary):
    ref_stats, ref_cat = pycocotools_eval(gt_path, res_path)
    our_stats, our_cat = workbench_eval(binary, gt_path, res_path)
    errors = [f"{s}: ours {o!r} pycocotools {r!r}" for s, o, r in zip(STATS, our_stats, ref_stats)
              if abs(o - r) > TOL]
    if set(ref_cat) != set(our_cat):
        errors.append(f"category ids differ: {sorted(ref_cat)} vs {sorted(our_cat)}")
    errors += [f"category {c} AP: ours {our_cat[c]!r} pycocotools {ref_cat[c]!r}"
               for c in ref_cat if c in our_cat and abs(our_cat[c] - ref_cat[c]) > TOL]
    worst = max([abs(o - r) for o, r in zip(our_stats, ref_stats)] +
                [abs(our_cat[c] - ref_cat[c]) for c in ref_cat if c in our_cat])
    print(f"{name:16s} AP {ref_stats[0]:.4f} AP50 {ref_stats[1]:.4f} AR100 {ref_stats[8]:.4f}  "
          f"max |diff| {worst:.2e}  {'ok' if not errors else 'FAIL'}")
    for e in errors:
        print("   ", e)
    return not errors


def main():
    binary, source_dir, work = sys.argv[1:4]
    gt_path = os.path.join(source_dir, "..", "shared", "datasets", "coco128", "annotations",
                           "instances_train2017.json")
    if not os.path.exists(gt_path):
        raise SystemExit(f"missing {os.path.normpath(gt_path)}: the shared coco128 dataset must sit next to the "
                         "checkout (../shared/datasets/coco128)")
    os.makedirs(work, exist_ok=True)
    with open(gt_path) as f:
        gt = json.load(f)
    ok = True
    for seed, gen in enumerate(GENERATORS):
        dets = gen(gt, random.Random(1000 + seed))
        res_path = os.path.join(work, f"{gen.__name__}.results.json")
        with open(res_path, "w") as f:
            json.dump(dets, f)
        ok &= compare(gen.__name__, gt_path, res_path, binary)
    data = os.path.join(source_dir, "tests", "eval", "data")
    ok &= compare("handmade", os.path.join(data, "handmade_gt.json"), os.path.join(data, "handmade_results.json"),
                  binary)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
