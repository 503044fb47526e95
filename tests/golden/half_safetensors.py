"""A safetensors file of float16 and bfloat16 tensors written from PyTorch, for loading without widening and saving
bit for bit (tests/safetensors/half-golden.test.ts).

The `safetensors` Python package is not installed on these machines, so the file is written by safetensors_io.py,
the format written by hand from the spec (8-byte little-endian header length, JSON header, the tensors' bytes). The
bit patterns PyTorch holds for each tensor are written beside it in bits.json (`t.view(torch.int16)`), so the test
compares against PyTorch's bits, not against the file's bytes read back by the same code.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/half_safetensors.py
"""
import json
import os

import torch

from safetensors_io import save_file

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "half-safetensors")


def main():
    g = torch.Generator().manual_seed(20261206)
    specials = torch.tensor([0.0, -0.0, 1.0, -2.5, float("inf"), float("-inf"), float("nan"), 65504.0, 1e-7, 6e-8, 3.0e38, 1e-40])
    tensors = {
        "weight.f16": torch.randn(3, 5, generator=g).to(torch.float16),
        "weight.bf16": torch.randn(4, 2, 3, generator=g).to(torch.bfloat16),
        "specials.f16": specials.to(torch.float16),
        "specials.bf16": specials.to(torch.bfloat16),
        "scalar.bf16": torch.tensor(0.1).to(torch.bfloat16),
        # NaNs whose payloads a round trip through values would change (signalling ones are quieted)
        "nan_payloads.f16": torch.tensor([0x7C01, 0xFC01 - 0x10000, 0x7D55, 0x7E00], dtype=torch.int16).view(torch.float16),
        "nan_payloads.bf16": torch.tensor([0x7F81, 0xFF81 - 0x10000, 0x7FA5, 0x7FC0], dtype=torch.int16).view(torch.bfloat16),
        "empty.f16": torch.zeros(0, 4, dtype=torch.float16),
        "ids": torch.tensor([3, 1, 4], dtype=torch.int64),
        "f32": torch.randn(2, 2, generator=g),
    }
    os.makedirs(HERE, exist_ok=True)
    save_file(tensors, os.path.join(HERE, "halves.safetensors"), metadata={"format": "pt"})
    bits = {
        name: {"shape": list(t.shape), "bits": [int(b) & 0xFFFF for b in t.reshape(-1).view(torch.int16).tolist()]}
        for name, t in tensors.items()
        if t.dtype in (torch.float16, torch.bfloat16)
    }
    with open(os.path.join(HERE, "bits.json"), "w") as f:
        json.dump({"torch": torch.__version__, "tensors": bits}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
