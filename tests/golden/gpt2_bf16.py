"""Golden files for a GPT-2 whose weights are stored in bfloat16: a tiny random checkpoint written with BF16
tensors in Hugging Face's layout, and the logits and loss PyTorch computes with those bfloat16 weights widened to
float32 (activations in float32: frozen weights half, arithmetic float32, as tests/models/half-models.test.ts loads
it). The architecture is gpt2.py's plain re-implementation of transformers' GPT2LMHeadModel (written from the paper
and the checkpoint layout; no `transformers` on these machines).

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/gpt2_bf16.py
"""
import json
import os

import torch
import torch.nn.functional as F

from gpt2 import CONFIG, gpt2_logits, random_weights
from safetensors_io import save_file

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpt2-tiny-bf16")


def main():
    os.makedirs(HERE, exist_ok=True)
    g = torch.Generator().manual_seed(4321)
    stored = {k: t.to(torch.bfloat16) for k, t in random_weights(CONFIG, g).items()}
    ids = torch.randint(0, CONFIG["vocab_size"], (2, 12), generator=g)
    widened = {k: t.to(torch.float32) for k, t in stored.items()}
    logits = gpt2_logits(widened, CONFIG, ids)
    v = CONFIG["vocab_size"]
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, v), ids[:, 1:].reshape(-1))
    save_file(stored, os.path.join(HERE, "model.safetensors"), {"format": "pt"})
    with open(os.path.join(HERE, "config.json"), "w") as f:
        json.dump(dict(CONFIG, torch_dtype="bfloat16"), f, indent=2)
    golden = {"input_ids": ids, "logits": logits, "loss": loss.reshape(1)}
    save_file(golden, os.path.join(HERE, "golden.safetensors"), {"torch": torch.__version__})
    print("loss", loss.item())


if __name__ == "__main__":
    main()
