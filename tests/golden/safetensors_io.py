"""Minimal safetensors writer for the golden files (no `safetensors` package on these machines): an 8-byte
little-endian header length, the JSON header (padded with spaces to 8 bytes), then the tensors' bytes."""
import json
import struct

import torch

_DTYPES = {
    torch.float32: "F32",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.float64: "F64",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.bool: "BOOL",
}


def save_file(tensors, path, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        # numpy has no bfloat16: its bytes are those of the same bits read as int16 (little-endian, like the rest)
        data = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for b in blobs:
            f.write(b)
