"""Golden files for GPT-2: a tiny random-weight checkpoint in Hugging Face's layout and the logits, loss and
gradients PyTorch computes for it.

No GPU machine was lent to the issue that added this, so `transformers` was not at hand: the model below is a
plain functional re-implementation of Hugging Face's GPT2LMHeadModel (eval mode, Conv1D weights [in, out],
tanh-approximate GELU, tied lm_head), written from the paper and the checkpoint layout, in PyTorch on the CPU.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/gpt2.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from safetensors_io import save_file

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpt2-tiny")
CONFIG = {
    "model_type": "gpt2",
    "architectures": ["GPT2LMHeadModel"],
    "vocab_size": 50,
    "n_positions": 16,
    "n_embd": 32,
    "n_layer": 2,
    "n_head": 4,
    "n_inner": None,
    "layer_norm_epsilon": 1e-5,
    "activation_function": "gelu_new",
    "resid_pdrop": 0.0,
    "embd_pdrop": 0.0,
    "attn_pdrop": 0.0,
}


def random_weights(cfg, g):
    c, v, p = cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"]
    w = {
        "transformer.wte.weight": torch.randn(v, c, generator=g) * 0.3,
        "transformer.wpe.weight": torch.randn(p, c, generator=g) * 0.3,
        "transformer.ln_f.weight": 1 + 0.1 * torch.randn(c, generator=g),
        "transformer.ln_f.bias": 0.1 * torch.randn(c, generator=g),
    }
    for i in range(cfg["n_layer"]):
        pre = f"transformer.h.{i}."
        for ln in ("ln_1", "ln_2"):
            w[pre + ln + ".weight"] = 1 + 0.1 * torch.randn(c, generator=g)
            w[pre + ln + ".bias"] = 0.1 * torch.randn(c, generator=g)
        for name, (i_, o_) in {"attn.c_attn": (c, 3 * c), "attn.c_proj": (c, c), "mlp.c_fc": (c, 4 * c), "mlp.c_proj": (4 * c, c)}.items():
            w[pre + name + ".weight"] = torch.randn(i_, o_, generator=g) / math.sqrt(i_)
            w[pre + name + ".bias"] = 0.1 * torch.randn(o_, generator=g)
    return w


def gpt2_logits(w, cfg, ids, head=None):
    b, t = ids.shape
    c, h = cfg["n_embd"], cfg["n_head"]
    d = c // h
    eps = cfg["layer_norm_epsilon"]
    x = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][torch.arange(t)]
    causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
    for i in range(cfg["n_layer"]):
        pre = f"transformer.h.{i}."
        a = F.layer_norm(x, (c,), w[pre + "ln_1.weight"], w[pre + "ln_1.bias"], eps)
        qkv = a @ w[pre + "attn.c_attn.weight"] + w[pre + "attn.c_attn.bias"]
        q, k, v = qkv.split(c, dim=2)
        q, k, v = (z.view(b, t, h, d).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d)
        att = att.masked_fill(~causal, torch.finfo(att.dtype).min).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, c)
        x = x + y @ w[pre + "attn.c_proj.weight"] + w[pre + "attn.c_proj.bias"]
        m = F.layer_norm(x, (c,), w[pre + "ln_2.weight"], w[pre + "ln_2.bias"], eps)
        m = F.gelu(m @ w[pre + "mlp.c_fc.weight"] + w[pre + "mlp.c_fc.bias"], approximate="tanh")
        x = x + m @ w[pre + "mlp.c_proj.weight"] + w[pre + "mlp.c_proj.bias"]
    x = F.layer_norm(x, (c,), w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps)
    return x @ (w["transformer.wte.weight"] if head is None else head).T  # lm_head tied to wte, or a score head


def main():
    os.makedirs(HERE, exist_ok=True)
    g = torch.Generator().manual_seed(1234)
    w = random_weights(CONFIG, g)
    ids = torch.randint(0, CONFIG["vocab_size"], (2, 12), generator=g)
    for t in w.values():
        t.requires_grad_(True)
    logits = gpt2_logits(w, CONFIG, ids)
    v = CONFIG["vocab_size"]
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, v), ids[:, 1:].reshape(-1))
    loss.backward()
    save_file({k: t.detach() for k, t in w.items()}, os.path.join(HERE, "model.safetensors"), {"format": "pt"})
    with open(os.path.join(HERE, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    checked = ["transformer.wte.weight", "transformer.h.0.attn.c_attn.weight", "transformer.h.1.mlp.c_fc.bias", "transformer.ln_f.weight"]
    golden = {"input_ids": ids, "logits": logits.detach(), "loss": loss.detach().reshape(1)}
    golden.update({"grad." + k: w[k].grad for k in checked})
    save_file(golden, os.path.join(HERE, "golden.safetensors"), {"torch": torch.__version__})
    print("loss", loss.item())
    classification(g)


def classification(g):
    """GPT2ForSequenceClassification: a bias-free `score` head read at each row's last non-pad token."""
    out = HERE + "-cls"
    os.makedirs(out, exist_ok=True)
    cfg = dict(CONFIG, architectures=["GPT2ForSequenceClassification"], num_labels=3, pad_token_id=0)
    w = random_weights(cfg, g)
    w["score.weight"] = torch.randn(3, cfg["n_embd"], generator=g) * 0.2
    ids = torch.randint(1, cfg["vocab_size"], (3, 10), generator=g)
    ids[0, 7:] = 0  # right padding
    ids[1, 4:] = 0
    labels = torch.tensor([2, 0, 1])
    for t in w.values():
        t.requires_grad_(True)
    hidden_logits = gpt2_logits(w, cfg, ids, head=w["score.weight"])
    last = (torch.arange(ids.shape[1]) * (ids != 0).int()).argmax(-1)
    logits = hidden_logits[torch.arange(3), last]
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    save_file({k: t.detach() for k, t in w.items()}, os.path.join(out, "model.safetensors"), {"format": "pt"})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    golden = {"input_ids": ids, "labels": labels, "logits": logits.detach(), "loss": loss.detach().reshape(1)}
    golden.update({"grad." + k: w[k].grad for k in ["score.weight", "transformer.h.1.attn.c_proj.weight"]})
    save_file(golden, os.path.join(out, "golden.safetensors"), {"torch": torch.__version__})
    print("classification loss", loss.item())


if __name__ == "__main__":
    main()
