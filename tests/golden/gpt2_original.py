"""Golden files for GPT-2 in the layout of the original OpenAI release as it is published on the Hub (the most
downloaded GPT-2): bare names (`wte.weight`, `h.0.ln_1.weight`, …, no `transformer.` prefix), no `lm_head.weight`
(the head is the token embedding), and each block's causal-mask buffers `h.N.attn.bias` ([1, 1, n_positions,
n_positions], float32 ones below the diagonal) and `h.N.attn.masked_bias` (the scalar −1e4), with the published
config.json fields. The model is gpt2.py's functional re-implementation; this script only writes it as published.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/gpt2_original.py
"""
import json
import os

import torch
import torch.nn.functional as F

from gpt2 import gpt2_logits, random_weights
from safetensors_io import save_file

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpt2-original")
# openai-community/gpt2's config.json, every field kept, sizes scaled down.
CONFIG = {
    "activation_function": "gelu_new",
    "architectures": ["GPT2LMHeadModel"],
    "attn_pdrop": 0.1,
    "bos_token_id": 49,
    "embd_pdrop": 0.1,
    "eos_token_id": 49,
    "initializer_range": 0.02,
    "layer_norm_epsilon": 1e-05,
    "model_type": "gpt2",
    "n_ctx": 16,
    "n_embd": 32,
    "n_head": 4,
    "n_layer": 2,
    "n_positions": 16,
    "resid_pdrop": 0.1,
    "summary_activation": None,
    "summary_first_dropout": 0.1,
    "summary_proj_to_labels": True,
    "summary_type": "cls_index",
    "summary_use_proj": True,
    "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}},
    "vocab_size": 50,
}


def main():
    os.makedirs(HERE, exist_ok=True)
    g = torch.Generator().manual_seed(4321)
    w = random_weights(CONFIG, g)
    ids = torch.randint(0, CONFIG["vocab_size"], (2, 12), generator=g)
    for t in w.values():
        t.requires_grad_(True)
    logits = gpt2_logits(w, CONFIG, ids)  # eval mode: the dropout probabilities do not apply
    hidden = gpt2_logits(w, CONFIG, ids, head=torch.eye(CONFIG["n_embd"]))  # ln_f's output, through an identity head
    v = CONFIG["vocab_size"]
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, v), ids[:, 1:].reshape(-1))
    loss.backward()

    n = CONFIG["n_positions"]
    stored = {k[len("transformer."):]: t.detach() for k, t in w.items()}
    for i in range(CONFIG["n_layer"]):
        stored[f"h.{i}.attn.bias"] = torch.tril(torch.ones(n, n)).view(1, 1, n, n)
        stored[f"h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
    save_file(stored, os.path.join(HERE, "model.safetensors"), {"format": "pt"})
    with open(os.path.join(HERE, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    checked = ["transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.attn.c_attn.weight", "transformer.h.1.ln_2.bias"]
    golden = {"input_ids": ids, "logits": logits.detach(), "hidden": hidden.detach(), "loss": loss.detach().reshape(1)}
    golden.update({"grad." + k: w[k].grad for k in checked})
    save_file(golden, os.path.join(HERE, "golden.safetensors"), {"torch": torch.__version__})
    print("loss", loss.item())


if __name__ == "__main__":
    main()
