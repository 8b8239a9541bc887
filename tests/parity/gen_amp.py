"""float32 -> bfloat16 / float16 as torch rounds them (round to nearest even;
torch's float16 is numpy's), for the CUDA backend's amp conversion
(core/backends/cuda/amp_math.h, test_cuda_math_amp).

Case amp_rounding: "x" [N] float32 inputs: ties at both formats' last bit
(odd and even), the largest finite values and just past them, the overflow
threshold of float16 (65520) either side, float16 subnormals and their ties,
the smallest float32 subnormals, +-0, +-inf, NaN, then 4096 random bit
patterns; "bf16" and "f16": x.to(dtype).float() (widening is exact).
"""
import numpy as np
import torch


def _f32(bits):
    return np.array(bits, dtype=np.uint32).view(np.float32)


def generate(save):
    edges = [1.0, -2.0, 0.1, 1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8, 1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11,
             65504.0, 65519.0, 65520.0, -65520.0, 65536.0, 1e10, 2.0 ** -14, 2.0 ** -24, 2.0 ** -25,
             3 * 2.0 ** -25, 2.0 ** -25 * 1.0001, 2.0 ** -15 * 1.5, 6e-8, 3.1e-5, 0.0, -0.0,
             float("inf"), float("-inf"), float("nan"), 3.389e38, -3.4028235e38]
    bit_edges = [0x7f7fffff, 0x7f7f8000, 0x7f7f7fff, 0x00000001, 0x80000001, 0x007fffff, 0x3f808000,
                 0x3f818000, 0x3f807fff, 0x387fe000, 0x387ff000, 0x33000001, 0x477fefff, 0xffc00001, 0x7f800001]
    rng = np.random.default_rng(15)
    random_bits = rng.integers(0, 2 ** 32, size=4096, dtype=np.uint64).astype(np.uint32)
    x = np.concatenate([np.array(edges, dtype=np.float32), _f32(bit_edges), random_bits.view(np.float32)])
    t = torch.from_numpy(x.copy())
    with np.errstate(over="ignore"):  # overflowing to inf is what the case is about
        f16 = x.astype(np.float16).astype(np.float32)
    save("amp_rounding", {"x": t, "bf16": t.to(torch.bfloat16).float(), "f16": torch.from_numpy(f16)})
