"""torchvision's RetinaNet on real BCCD pictures against `workbench infer`.

  torchvision_bccd.py export OUT_DIR IMAGE...   weights (F16 safetensors, workbench names) and
                                                torchvision's detections (OUT_DIR/torchvision.json)
  torchvision_bccd.py compare OUT_DIR           workbench's COCO results (OUT_DIR/shown/results.json)
                                                against them: every detection reproduced

The model is tools/export_torchvision.py's retinanet_resnet18_fpn (3 classes),
seeded random weights with randomised BN and He-scaled head towers, so that
every level detects (as tests/parity/gen_retina.py's 640x480 case), stored as
F16: torchvision runs the F16-rounded weights workbench widens on load. Its
transform keeps the 640x480 pictures as they are (min_size 480, max_size
640), normalises with ImageNet's mean and std, pads to 32.
"""
import importlib.util
import json
import os
import sys

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("export_torchvision",
                                               os.path.join(HERE, "..", "..", "tools", "export_torchvision.py"))
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)

BOX_TOL, SCORE_TOL = 1e-3, 1e-5  # px, absolute: the bounds


def build():
    torch.manual_seed(130)
    model = export.build_model("retinanet_resnet18_fpn", 3)
    export.randomize_batch_norm(model, torch.Generator().manual_seed(131))
    with torch.no_grad():
        for name, p in model.head.named_parameters():
            if name.endswith("weight"):
                p.mul_(3.0 if ".conv." in name else (1.0 if "cls_logits" in name else 0.1))
        model.head.classification_head.cls_logits.bias.copy_(
            torch.randn(27, generator=torch.Generator().manual_seed(132)) * 0.5 - 6.0)
        for p in model.state_dict().values():  # what an F16 file holds
            if p.is_floating_point():
                p.copy_(p.half().float())
    model.transform.min_size, model.transform.max_size = (480,), 640
    model.score_thresh, model.topk_candidates, model.nms_thresh, model.detections_per_img = 0.05, 1000, 0.5, 300
    return model.eval()


def export_case(out, images):
    model = build()
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    export.write_safetensors(os.path.join(out, "r18.safetensors"), export.workbench_names(state, detection=True),
                             {"source": "tests/e2e/torchvision_bccd.py"}, "F16")
    dets = {}
    with torch.no_grad():
        for path in images:
            x = torchvision.io.read_image(path).float() / 255.0
            d = model([x])[0]
            dets[os.path.basename(path)] = {"boxes": d["boxes"].tolist(), "scores": d["scores"].tolist(),
                                            "labels": d["labels"].tolist()}
    json.dump(dets, open(os.path.join(out, "torchvision.json"), "w"))
    print(f"torchvision: {sum(len(d['scores']) for d in dets.values())} detections on {len(images)} pictures")


def compare(out):
    want = json.load(open(os.path.join(out, "torchvision.json")))
    images = json.load(open(os.path.join(out, "shown", "results.images.json")))["images"]
    names = {im["id"]: im["file_name"] for im in images}
    got = {}
    for d in json.load(open(os.path.join(out, "shown", "results.json"))):
        x, y, w, h = d["bbox"]
        got.setdefault(os.path.basename(names[d["image_id"]]), []).append(
            (d["category_id"] - 1, d["score"], [x, y, x + w, y + h]))  # VOC ids are 1-based
    total, worst_box, worst_score = 0, 0.0, 0.0
    for name, ref in want.items():
        ours = sorted(got.get(name, []), key=lambda t: -t[1])
        assert len(ours) == len(ref["scores"]), f"{name}: {len(ours)} detections, torchvision {len(ref['scores'])}"
        used = [False] * len(ours)
        for label, score, box in zip(ref["labels"], ref["scores"], ref["boxes"]):
            match = next((i for i, (l, s, b) in enumerate(ours) if not used[i] and l == label and
                          abs(s - score) <= SCORE_TOL and max(abs(p - q) for p, q in zip(b, box)) <= BOX_TOL), None)
            assert match is not None, f"{name}: torchvision's {label} {score:.7f} {box} is not among workbench's"
            used[match] = True
            worst_score = max(worst_score, abs(ours[match][1] - score))
            worst_box = max(worst_box, max(abs(p - q) for p, q in zip(ours[match][2], box)))
        total += len(ours)
    print(f"all {total} of torchvision's detections on {len(want)} BCCD pictures reproduced: max box difference "
          f"{worst_box:.2g} px, max score difference {worst_score:.2g}")


if __name__ == "__main__":
    torch.set_num_threads(2)
    if sys.argv[1] == "export":
        export_case(sys.argv[2], sys.argv[3:])
    else:
        compare(sys.argv[2])
