"""Writes torch parity cases as safetensors files for the C tests.

Each gen_*.py script defines `generate(save)`; `save(name, tensors, **attrs)`
writes WB_PARITY_DIR/<name>.safetensors with float32 tensors and numeric
attributes as metadata. Only /usr/bin/python3 with Debian's torch runs these.
"""
import json
import os
import struct

import numpy as np


def save(name, tensors, **attrs):
    out_dir = os.environ["WB_PARITY_DIR"]
    os.makedirs(out_dir, exist_ok=True)
    header, blobs, offset = {}, [], 0
    for key, value in tensors.items():
        arr = np.ascontiguousarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value,
                                   dtype=np.float32)
        raw = arr.tobytes()
        header[key] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if attrs:
        header["__metadata__"] = {k: repr(v) if not isinstance(v, str) else v for k, v in attrs.items()}
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    path = os.path.join(out_dir, name + ".safetensors")
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    os.replace(path + ".tmp", path)
