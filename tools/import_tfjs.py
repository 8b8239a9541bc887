#!/usr/bin/python3
"""Imports the TF.js CenterNet-MobileNetV3 graph model into a workbench checkpoint (safetensors, F32).

Needs numpy only: the model JSON (topology + weightsManifest) is parsed here and the weights
(float16, or uint8 / uint16 affine-quantised) are decoded from the .bin shards with numpy.

  python3 tools/import_tfjs.py ../shared/models/centernet_mobilenetv3/centernet.json \\
      --out work_dirs/centernet_mobilenetv3_coco.safetensors
  workbench eval configs/centernet/centernet_mobilenetv3_coco.conf work_dirs/centernet_mobilenetv3_coco.safetensors

The model (github.com/610265158/mobilenetv3_centernet, converted to TF.js) is mapped onto
  backbone mobilenet_v3  TF-Slim MobileNetV3-Large x0.75 (expansion = "tf_slim", padding = "tf_same",
                         last_channels 480, hard_scale = the graph's float16 1/6):
      MobilenetV3/Conv                    -> backbone.features.0
      MobilenetV3/expanded_conv[_k]/...   -> backbone.features.<k+1>.block.<j> (expand, depthwise,
                                             squeeze_excite fc1 / fc2, project in torchvision's order)
      extern1                             -> backbone.features.16
  neck centernet_fpn:
      CenternetHead/c<l>_reverse/1x1, /3x3  -> neck.level<l-2>.reduce, .lateral (dw, pw)
      CenternetHead/c<l+1>_upsample/branch_{x,y}_upsample_resize -> neck.level<l-2>.branch_{x,y}
      CenternetHead/conv1x1_se_a, _se_b     -> neck.se.fc1, neck.se.fc2
  head centernet_head (branch "separable", box "ltrb"):
      CenternetHead/centernet_cls_output  -> head.hm.0 (depthwise), head.hm.1 (pointwise + bias)
      CenternetHead/centernet_wh_output   -> head.wh.0, head.wh.1
The graph's BatchNorms are folded into its convs (a weight and a "bn_offset"): the conv gets the
folded weight and the BN weight 1, bias the offset, running mean 0 and running variance 1 - eps,
so that BN at eps 1e-3 is exactly the identity plus the offset. Every weight of the manifest must be
used (or be a known graph constant); the scalar constants the config must repeat (hard_scale,
box_scale, the output stride) are checked against the graph and printed.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

BN_EPS = 1e-3  # the eps of workbench's mobilenet_v3 and centernet_fpn BatchNorms

# Graph constants that are not weights of a layer: what they are checked to be.
HARD_SCALE_SUFFIXES = ("hard_swish/mul_1/y", "squeeze_excite/Conv_1/mul/y")


def read_manifest_weights(model_path):
    """name -> float32 / int32 numpy array for every entry of the weightsManifest."""
    with open(model_path) as f:
        model = json.load(f)
    base = os.path.dirname(os.path.abspath(model_path))
    weights = {}
    for group in model["weightsManifest"]:
        data = b"".join(open(os.path.join(base, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            count = int(np.prod(w["shape"])) if w["shape"] else 1
            value, offset = decode_weight(w, data, offset, count)
            weights[w["name"]] = value.reshape(w["shape"])
        if offset != len(data):
            raise SystemExit(f"import_tfjs: {model_path}: the manifest describes {offset} bytes, the shards "
                             f"{group['paths']} hold {len(data)}")
    return model, weights


def decode_weight(w, data, offset, count):
    """One manifest entry at offset: (array, next offset). float16 and affine uint8 / uint16 quantisation."""
    q = w.get("quantization")
    if q is None:
        dtype = {"float32": "<f4", "int32": "<i4"}.get(w["dtype"])
        if dtype is None:
            raise SystemExit(f"import_tfjs: weight {w['name']} has dtype {w['dtype']}, not float32 / int32")
        return np.frombuffer(data, dtype, count, offset).copy(), offset + 4 * count
    if q["dtype"] == "float16":
        return np.frombuffer(data, "<f2", count, offset).astype(np.float32), offset + 2 * count
    if q["dtype"] in ("uint8", "uint16"):
        size = 1 if q["dtype"] == "uint8" else 2
        raw = np.frombuffer(data, "<u1" if size == 1 else "<u2", count, offset).astype(np.float32)
        return (raw * np.float32(q["scale"]) + np.float32(q["min"])).astype(np.float32), offset + size * count
    raise SystemExit(f"import_tfjs: weight {w['name']} is quantised as {q['dtype']}; float16, uint8 and uint16 "
                     "are supported")


class Mapper:
    """Collects workbench tensors and remembers which graph weights were used."""

    def __init__(self, weights):
        self.weights, self.used, self.out = weights, set(), {}

    def take(self, name):
        if name not in self.weights:
            raise SystemExit(f"import_tfjs: the graph has no weight '{name}'; this importer knows the "
                             "CenterNet-MobileNetV3 graph (tower_0/MobilenetV3, tower_0/CenternetHead)")
        self.used.add(name)
        return self.weights[name]

    def conv(self, dst, src):
        """HWIO conv weights -> OIHW."""
        self.out[dst] = self.take(src).transpose(3, 2, 0, 1)

    def depthwise(self, dst, src):
        """[kh, kw, C, 1] depthwise weights -> [C, 1, kh, kw]."""
        self.out[dst] = self.take(src).transpose(2, 3, 0, 1)

    def folded_bn(self, dst, offset_src):
        """A BN that is the identity plus the graph's bn_offset (see the module docstring)."""
        offset = self.take(offset_src)
        self.out[dst + ".weight"] = np.ones_like(offset)
        self.out[dst + ".bias"] = offset
        self.out[dst + ".running_mean"] = np.zeros_like(offset)
        self.out[dst + ".running_var"] = np.full_like(offset, 1.0 - BN_EPS)

    def conv_bn(self, dst, src):
        """<src>/Conv2D_weights + <src>/Conv2D_bn_offset -> <dst>.0.weight, <dst>.1.*"""
        self.conv(dst + ".0.weight", src + "/Conv2D_weights")
        self.folded_bn(dst + ".1", src + "/Conv2D_bn_offset")

    def separable(self, dst, src, scope):
        """TF separable_conv2d: depthwise (no bias) then a 1x1 conv with a folded BN."""
        self.depthwise(dst + ".dw.weight", scope + "/depthwise_weights")
        self.conv(dst + ".pw.0.weight", src + "/separable_conv2d_weights")
        self.folded_bn(dst + ".pw.1", src + "/separable_conv2d_bn_offset")


def block_names(w, k):
    """The TF scopes of expanded_conv_<k>'s parts, in torchvision's block order."""
    scope = "tower_0/MobilenetV3/expanded_conv" + (f"_{k}" if k else "")
    parts = []
    if scope + "/expand/Conv2D_weights" in w:
        parts.append(("expand", scope + "/expand"))
    parts.append(("depthwise", scope + "/depthwise"))
    if "MobilenetV3/expanded_conv" + (f"_{k}" if k else "") + "/squeeze_excite/Conv/weights" in w:
        parts.append(("se", "MobilenetV3/expanded_conv" + (f"_{k}" if k else "") + "/squeeze_excite"))
    parts.append(("project", scope + "/project"))
    return parts


def map_backbone(m):
    m.conv_bn("backbone.features.0", "tower_0/MobilenetV3/Conv")
    k = 0
    while any(n.startswith(f"tower_0/MobilenetV3/expanded_conv{'_' + str(k) if k else ''}/") for n in m.weights):
        for j, (kind, scope) in enumerate(block_names(m.weights, k)):
            dst = f"backbone.features.{k + 1}.block.{j}"
            if kind == "depthwise":
                m.depthwise(dst + ".0.weight", scope + "/depthwise_weights")
                m.folded_bn(dst + ".1", scope + "/depthwise_bn_offset")
            elif kind == "se":
                for fc, name in (("fc1", "Conv"), ("fc2", "Conv_1")):
                    m.conv(f"{dst}.{fc}.weight", f"{scope}/{name}/weights")
                    m.out[f"{dst}.{fc}.bias"] = m.take(f"{scope}/{name}/biases")
            else:
                m.conv_bn(dst, scope)
        k += 1
    m.conv_bn(f"backbone.features.{k + 1}", "tower_0/extern1")
    return k


def map_neck_and_head(m):
    head = "CenternetHead"
    for level in range(3):  # c2..c4 laterals; c<l+1>_upsample brings the level above into level l
        c = level + 2
        m.conv_bn(f"neck.level{level}.reduce", f"tower_0/{head}/c{c}_reverse/1x1")
        m.separable(f"neck.level{level}.lateral", f"tower_0/{head}/c{c}_reverse/3x3", f"{head}/c{c}_reverse/3x3")
        for branch in ("x", "y"):
            scope = f"{head}/c{c + 1}_upsample/branch_{branch}_upsample_resize"
            m.separable(f"neck.level{level}.branch_{branch}", "tower_0/" + scope, scope)
    m.conv_bn("neck.se.fc1", f"tower_0/{head}/conv1x1_se_a")
    m.conv("neck.se.fc2.weight", f"{head}/conv1x1_se_b/weights")
    for dst, src in (("hm", "centernet_cls_output"), ("wh", "centernet_wh_output")):
        m.depthwise(f"head.{dst}.0.weight", f"{head}/{src}/depthwise_weights")
        m.conv(f"head.{dst}.1.weight", f"{head}/{src}/pointwise_weights")
        m.out[f"head.{dst}.1.bias"] = m.take(f"{head}/{src}/biases")


def graph_constants(m):
    """The scalars the config must repeat, checked for consistency, and marked used."""
    w = m.weights
    hard = {float(w[n]) for n in w if n.endswith(HARD_SCALE_SUFFIXES)}
    threes = {float(w[n]) for n in w if n.endswith("/add/y")}
    if len(hard) != 1 or threes != {3.0}:
        raise SystemExit(f"import_tfjs: expected one 1/6 and one 3 in every hard activation, found {sorted(hard)} "
                         f"and {sorted(threes)}")
    box_scale = float(m.take("tower_0/mul/y"))
    strides = {float(m.take(f"tower_0/mul_{i}/y")) for i in (3, 4, 5, 6)}
    if len(strides) != 1:
        raise SystemExit(f"import_tfjs: the decoder's grid strides differ: {sorted(strides)}")
    for n in w:
        if n.endswith(HARD_SCALE_SUFFIXES) or n.endswith("/add/y") or w[n].dtype == np.int32:
            m.used.add(n)  # activation constants, shapes, axes and indices of the decoding graph
    return {"hard_scale": hard.pop(), "box_scale": box_scale, "stride": strides.pop()}


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    for name, value in tensors.items():
        raw = np.ascontiguousarray(value, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    os.replace(path + ".tmp", path)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="the TF.js model.json (its weight shards beside it)")
    ap.add_argument("--out", required=True, help="safetensors checkpoint to write (load_from / eval / infer)")
    args = ap.parse_args(argv)
    try:
        model, weights = read_manifest_weights(args.model)
    except (OSError, ValueError, KeyError) as e:
        print(f"import_tfjs: cannot read {args.model}: {e}", file=sys.stderr)
        return 1
    if model.get("format") != "graph-model":
        print(f"import_tfjs: {args.model} is a '{model.get('format')}', not a TF.js graph-model", file=sys.stderr)
        return 2
    m = Mapper(weights)
    blocks = map_backbone(m)
    map_neck_and_head(m)
    consts = graph_constants(m)
    unused = sorted(set(weights) - m.used)
    if unused:
        print(f"import_tfjs: {len(unused)} weights of the graph have no place in mobilenet_v3 + centernet_fpn + "
              f"centernet_head, first {unused[:3]}", file=sys.stderr)
        return 1
    write_safetensors(args.out, m.out, {"source": f"TF.js {model.get('generatedBy', '?')} via import_tfjs.py",
                                        **consts})
    print(f"{args.out}: {len(m.out)} tensors ({blocks} MobileNetV3 blocks); the config must say "
          f"hard_scale = {consts['hard_scale']:.8f}, box_scale = {consts['box_scale']:g}, "
          f"output stride {consts['stride']:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
