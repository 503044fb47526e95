"""Golden files for LLaMA: a tiny random-weight checkpoint in Hugging Face's layout (grouped-query attention,
rotary embeddings, RMSNorm, SwiGLU) and the logits, loss and gradients PyTorch computes for it.

No GPU machine (and so no `transformers`) was lent to the issue that added this: the model is a plain functional
re-implementation of Hugging Face's LlamaForCausalLM, in PyTorch on the CPU.
Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/llama.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from safetensors_io import save_file

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "llama-tiny")
CONFIG = {
    "model_type": "llama",
    "architectures": ["LlamaForCausalLM"],
    "vocab_size": 40,
    "hidden_size": 32,
    "intermediate_size": 48,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 64,
    "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0,
    "hidden_act": "silu",
    "tie_word_embeddings": False,
    "attention_bias": False,
}


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def main():
    os.makedirs(HERE, exist_ok=True)
    cfg = CONFIG
    g = torch.Generator().manual_seed(99)
    c, v, ff, h, kvh = cfg["hidden_size"], cfg["vocab_size"], cfg["intermediate_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = c // h
    w = {"model.embed_tokens.weight": torch.randn(v, c, generator=g) * 0.5, "model.norm.weight": 1 + 0.1 * torch.randn(c, generator=g), "lm_head.weight": torch.randn(v, c, generator=g) / math.sqrt(c)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        for name, (o, i_) in {"self_attn.q_proj": (h * d, c), "self_attn.k_proj": (kvh * d, c), "self_attn.v_proj": (kvh * d, c), "self_attn.o_proj": (c, h * d), "mlp.gate_proj": (ff, c), "mlp.up_proj": (ff, c), "mlp.down_proj": (c, ff)}.items():
            w[p + name + ".weight"] = torch.randn(o, i_, generator=g) / math.sqrt(i_)
        w[p + "input_layernorm.weight"] = 1 + 0.1 * torch.randn(c, generator=g)
        w[p + "post_attention_layernorm.weight"] = 1 + 0.1 * torch.randn(c, generator=g)
    ids = torch.randint(0, v, (2, 10), generator=g)
    for t in w.values():
        t.requires_grad_(True)

    b, t = ids.shape
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, d, 2).float() / d))
    freqs = torch.outer(torch.arange(t).float(), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
    x = w["model.embed_tokens.weight"][ids]
    eps = cfg["rms_norm_eps"]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        a = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = (a @ w[p + "self_attn.q_proj.weight"].T).view(b, t, h, d).transpose(1, 2)
        k = (a @ w[p + "self_attn.k_proj.weight"].T).view(b, t, kvh, d).transpose(1, 2)
        vv = (a @ w[p + "self_attn.v_proj.weight"].T).view(b, t, kvh, d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(h // kvh, dim=1)
        vv = vv.repeat_interleave(h // kvh, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d)
        att = att.masked_fill(~causal, torch.finfo(att.dtype).min).softmax(-1)
        y = (att @ vv).transpose(1, 2).reshape(b, t, c)
        x = x + y @ w[p + "self_attn.o_proj.weight"].T
        m = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        x = x + (F.silu(m @ w[p + "mlp.gate_proj.weight"].T) * (m @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    logits = x @ w["lm_head.weight"].T
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, v), ids[:, 1:].reshape(-1))
    loss.backward()

    save_file({k: t.detach() for k, t in w.items()}, os.path.join(HERE, "model.safetensors"), {"format": "pt"})
    with open(os.path.join(HERE, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    checked = ["model.embed_tokens.weight", "model.layers.0.self_attn.k_proj.weight", "model.layers.1.mlp.gate_proj.weight", "lm_head.weight"]
    golden = {"input_ids": ids, "logits": logits.detach(), "loss": loss.detach().reshape(1)}
    golden.update({"grad." + k: w[k].grad for k in checked})
    save_file(golden, os.path.join(HERE, "golden.safetensors"), {"torch": torch.__version__})
    print("loss", loss.item())


if __name__ == "__main__":
    main()
