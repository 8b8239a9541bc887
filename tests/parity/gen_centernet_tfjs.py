"""The TF.js CenterNet-MobileNetV3 of ../shared/models/centernet_mobilenetv3, imported at test time.

Runs tools/import_tfjs.py into WB_PARITY_DIR/centernet_tfjs_weights.safetensors and writes the
golden case of the original model (made by TF.js, see golden/README.md there):
  centernet_tfjs_golden: x [1,3,512,512] (the exact input tensor of 000000000009.jpg, NHWC -> NCHW),
                         det [100,6] (x1, y1, x2, y2 in the 512-px input, score, class 0-79)
Without ../shared only centernet_tfjs_unavailable (attribute `reason`) is written.
"""
import importlib.util
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "models", "centernet_mobilenetv3"))
IMAGE = "000000000009"


def generate(save):
    out_dir = os.environ["WB_PARITY_DIR"]
    for name in ("centernet_tfjs_golden", "centernet_tfjs_weights", "centernet_tfjs_unavailable"):
        path = os.path.join(out_dir, name + ".safetensors")
        if os.path.exists(path):
            os.remove(path)  # stale cases must not stand in for the shared model
    if not os.path.isdir(MODEL_DIR):
        why = f"the shared TF.js model is not at {MODEL_DIR} (../shared beside the checkout)"
        save("centernet_tfjs_unavailable", {}, reason=why)
        print(f"gen_centernet_tfjs: not written: {why}")
        return
    spec = importlib.util.spec_from_file_location("import_tfjs", os.path.join(HERE, "..", "..", "tools",
                                                                              "import_tfjs.py"))
    importer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(importer)
    rc = importer.main([os.path.join(MODEL_DIR, "centernet.json"), "--out",
                        os.path.join(out_dir, "centernet_tfjs_weights.safetensors")])
    if rc != 0:
        raise SystemExit(f"gen_centernet_tfjs: import_tfjs.py failed ({rc})")
    golden = os.path.join(MODEL_DIR, "golden")
    x = np.fromfile(os.path.join(golden, IMAGE + ".input_1x512x512x3_f32.bin"), "<f4").reshape(1, 512, 512, 3)
    with open(os.path.join(golden, "detections.json")) as f:
        det = np.array(json.load(f)[IMAGE + ".jpg"]["detections"], dtype=np.float32)
    save("centernet_tfjs_golden", {"x": x.transpose(0, 3, 1, 2), "det": det})
