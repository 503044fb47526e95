"""Golden float32 -> float16 / bfloat16 conversions from PyTorch, for the host conversions in
packages/tensor/src/half.ts (tests: packages/tensor/test/half-torch.test.ts).

Inputs are float32 bit patterns: the edge cases of both formats (ties both ways, the largest finite values and the
values just below and at their overflow thresholds, subnormals, signed zeros, infinities, NaNs with payloads) and
random patterns from a fixed seed. Each is converted by `torch.tensor(x, dtype=torch.float32).to(dtype)` and the
result's bits are written beside it, and the float32 bits of that result widened back by `.to(torch.float32)`. PyTorch returns a canonical NaN for bfloat16 (0x7FC0, sign dropped); the test
compares NaN results as NaN only.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/half_casts.py
"""
import json
import os
import random

import torch

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "half-casts")


def f32_bits_of(values):
    return [int(b) & 0xFFFFFFFF for b in torch.tensor(values, dtype=torch.float32).view(torch.int32).tolist()]


EDGE_BITS = [
    0x00000000, 0x80000000,  # +-0
    0x7F800000, 0xFF800000,  # +-Inf
    0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001, 0x7FA00000, 0x7FFFFFFF,  # NaNs: quiet, signalling, payloads
    0x00000001, 0x80000001, 0x007FFFFF, 0x00800000,  # float32 subnormals, the smallest normal
    0x7F7FFFFF, 0xFF7FFFFF,  # the largest float32
    0x7F7F7FFF, 0x7F7F8000, 0x7F7F8001, 0x7F7EFFFF, 0x7F7E8000,  # bfloat16: below / at / above its overflow tie
    0x3F808000, 0x3F818000, 0x3F807FFF, 0x3F808001,  # bfloat16 ties at 1 both ways, and their neighbours
    0x00008000, 0x00018000, 0x00007FFF,  # bfloat16 subnormal ties
]
EDGE_VALUES = [
    65504.0, 65519.99609375, 65520.0, 65536.0, -65520.0,  # float16 max, just below the overflow tie, the tie
    1.0 + 2**-11, 1.0 + 3 * 2**-11, 1.0 + 2**-11 + 2**-23, 1.0 + 2**-11 - 2**-23,  # float16 ties at 1
    2**-24, 2**-25, 2**-25 + 2**-40, 3 * 2**-25, 5 * 2**-25, 2**-26,  # float16 subnormal ties and neighbours
    2**-14, 2**-14 - 2**-25, 2**-14 - 2**-24, 1023 * 2**-24,  # float16 subnormal / normal boundary
    0.1, -0.1, 1 / 3, 3.14159265, 1e-8, -1e-5, 1e5, 1e30,
]


def main():
    rng = random.Random(20261206)
    bits = EDGE_BITS + f32_bits_of(EDGE_VALUES) + [rng.getrandbits(32) for _ in range(3000)]
    x = torch.tensor([b - (1 << 32) if b >= 1 << 31 else b for b in bits], dtype=torch.int32).view(torch.float32)
    out = {"inputs": bits}
    for name, dtype in (("float16", torch.float16), ("bfloat16", torch.bfloat16)):
        y = x.to(dtype)
        out[name] = [int(v) & 0xFFFF for v in y.view(torch.int16).tolist()]
        # and back: every half value is a float32, so this is exact
        out[name + "_widened"] = [int(v) & 0xFFFFFFFF for v in y.to(torch.float32).view(torch.int32).tolist()]
    out["torch"] = torch.__version__
    os.makedirs(HERE, exist_ok=True)
    with open(os.path.join(HERE, "casts.json"), "w") as f:
        json.dump(out, f)
        f.write("\n")


if __name__ == "__main__":
    main()
