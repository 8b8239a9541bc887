"""F16 and BF16 safetensors files written by torch (tools/export_torchvision.py's
writer), and what torch widens them to.

Cases:
  half_F16.safetensors, half_BF16.safetensors (in WB_PARITY_DIR, beside the
      cases): "net.w" [4, 6] (normal values from 1e-3 to 1e4 of both signs),
      "net.b" [6] (F16 subnormals, -0.0, the largest F16, a value BF16 rounds)
      and "special" [4] (inf, -inf, NaN, -0.0), stored as that dtype.
  half_reference: the same tensors after .to(dtype).float(), as float32,
      named "<dtype>:<name>".
"""
import importlib.util
import os

import torch

_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "export_torchvision.py")
_spec = importlib.util.spec_from_file_location("export_torchvision", _TOOL)
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)


def generate(save):
    gen = torch.Generator().manual_seed(120)
    magnitudes = 10.0 ** (torch.rand(4, 6, generator=gen) * 7 - 3)
    signs = torch.where(torch.rand(4, 6, generator=gen) < 0.5, -1.0, 1.0)
    tensors = {
        "net.w": magnitudes * signs,
        "net.b": torch.tensor([6e-8, 3.1e-5, -0.0, 65504.0, 1.0 + 2.0 ** -9, -2.5]),
        "special": torch.tensor([float("inf"), float("-inf"), float("nan"), -0.0]),
    }
    reference = {}
    for dtype in ("F16", "BF16"):
        export.write_safetensors(os.path.join(os.environ["WB_PARITY_DIR"], f"half_{dtype}.safetensors"), tensors,
                                 {"source": "tests/parity/gen_half.py"}, dtype)
        for name, value in tensors.items():
            reference[f"{dtype}:{name}"] = value.to(export.DTYPES[dtype]).float()
    save("half_reference", reference)
