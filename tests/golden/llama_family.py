"""Golden files for the LLaMA family as its checkpoints are published: Llama 2, Llama 3.2, Qwen2.5 (and Qwen2 with
its sliding-window layers on), Mistral and SmolLM2. Each is a tiny random-weight checkpoint written in the family's
published key layout, dtype and config.json fields (scaled down), with the logits, final hidden states, loss and a
few gradients PyTorch computes for it.

No GPU machine (and so no `transformers`) was lent to the issue that added this: the model below is a functional
re-implementation written from the architectures (LLaMA: Touvron et al. 2023; rotary embeddings: Su et al. 2021;
Llama 3.1's frequency scaling as Meta's reference code applies it; Mistral's sliding-window attention: Jiang et al.
2023; Qwen2's q/k/v biases), in PyTorch on the CPU. What differs between the families is data here, as in their
config.json: head_dim, rope_theta and rope_scaling, which projections carry biases, which layers see a window, and
whether the output embedding is tied to the input one.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/llama_family.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from safetensors_io import save_file

GOLDEN = os.path.dirname(os.path.abspath(__file__))

# The published config.json of each family (Llama-2-7b-hf, Llama-3.2-1B, Qwen2.5-0.5B, Qwen2-7B with sliding windows
# on, Mistral-7B-v0.1, SmolLM2-135M), every field kept, sizes scaled down.
LLAMA2 = {
    "architectures": ["LlamaForCausalLM"],
    "bos_token_id": 1,
    "eos_token_id": 2,
    "hidden_act": "silu",
    "hidden_size": 32,
    "initializer_range": 0.02,
    "intermediate_size": 64,
    "max_position_embeddings": 64,
    "model_type": "llama",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 4,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "rope_scaling": None,
    "tie_word_embeddings": False,
    "torch_dtype": "float16",
    "transformers_version": "4.31.0.dev0",
    "use_cache": True,
    "vocab_size": 64,
}
LLAMA3 = {
    "architectures": ["LlamaForCausalLM"],
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 60,
    "eos_token_id": 61,
    # Not hidden_size / num_attention_heads (8): an explicit head_dim must be what sizes q/k/v/o and the rotation.
    "head_dim": 16,
    "hidden_act": "silu",
    "hidden_size": 32,
    "initializer_range": 0.02,
    "intermediate_size": 64,
    "max_position_embeddings": 2048,
    "mlp_bias": False,
    "model_type": "llama",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 2,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    # Published: factor 32, 1, 4, 8192 for 131072 positions. The original context is scaled down with the model so
    # the 8 frequencies of a 16-wide head fall in all three bands (kept, smoothed, divided by factor).
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0, "original_max_position_embeddings": 64, "rope_type": "llama3"},
    "rope_theta": 500000.0,
    "tie_word_embeddings": True,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.45.0.dev0",
    "use_cache": True,
    "vocab_size": 64,
}
QWEN25 = {
    "architectures": ["Qwen2ForCausalLM"],
    "attention_dropout": 0.0,
    "bos_token_id": 62,
    "eos_token_id": 62,
    "hidden_act": "silu",
    "hidden_size": 48,
    "initializer_range": 0.02,
    "intermediate_size": 64,
    "max_position_embeddings": 256,
    # Layers from here on would attend within sliding_window if use_sliding_window were on (it is not): 1 of 2
    # here, so a window applied where it is off would show.
    "max_window_layers": 1,
    "model_type": "qwen2",
    "num_attention_heads": 6,
    "num_hidden_layers": 2,
    "num_key_value_heads": 2,
    "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0,
    # Published as 32768 with use_sliding_window false; 4 here, shorter than the test sequences.
    "sliding_window": 4,
    "tie_word_embeddings": True,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.43.1",
    "use_cache": True,
    "use_sliding_window": False,
    "vocab_size": 64,
}
# Qwen2 with sliding windows on: layers from max_window_layers on attend within the window, the ones below in full.
QWEN2_WINDOW = dict(QWEN25, use_sliding_window=True, tie_word_embeddings=False)
MISTRAL = {
    "architectures": ["MistralForCausalLM"],
    "bos_token_id": 1,
    "eos_token_id": 2,
    "hidden_act": "silu",
    "hidden_size": 32,
    "initializer_range": 0.02,
    "intermediate_size": 64,
    "max_position_embeddings": 256,
    "model_type": "mistral",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 2,
    "rms_norm_eps": 1e-05,
    "rope_theta": 10000.0,
    # Published: 4096. The test sequences (12 tokens) run past it.
    "sliding_window": 4,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.34.0.dev0",
    "use_cache": True,
    "vocab_size": 64,
}
SMOLLM2 = {
    "architectures": ["LlamaForCausalLM"],
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 0,
    "eos_token_id": 0,
    "hidden_act": "silu",
    "hidden_size": 48,
    "initializer_range": 0.041666666666666664,
    "intermediate_size": 64,
    "is_llama_config": True,
    "max_position_embeddings": 256,
    "mlp_bias": False,
    "model_type": "llama",
    "num_attention_heads": 3,
    "num_hidden_layers": 2,
    "num_key_value_heads": 1,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "rope_interleaved": False,
    "rope_scaling": None,
    "rope_theta": 100000,
    "tie_word_embeddings": True,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.42.3",
    "use_cache": True,
    "vocab_size": 64,
}

# name: (config, stored dtype, seed, whether the file carries the old rotary_emb.inv_freq buffers)
CHECKPOINTS = {
    "llama2-tiny": (LLAMA2, torch.float16, 21, True),
    "llama3-tiny": (LLAMA3, torch.bfloat16, 22, False),
    "qwen2-tiny": (QWEN25, torch.bfloat16, 23, False),
    "qwen2-tiny-window": (QWEN2_WINDOW, torch.bfloat16, 24, False),
    "mistral-tiny": (MISTRAL, torch.bfloat16, 25, False),
    "smollm2-tiny": (SMOLLM2, torch.bfloat16, 26, False),
}


def head_dim(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def biases(cfg):
    """Which of q/k/v/o_proj have a bias: Qwen2 q, k and v; Llama all four when attention_bias; Mistral none."""
    if cfg["model_type"] == "qwen2":
        return {"q_proj", "k_proj", "v_proj"}
    if cfg.get("attention_bias"):
        return {"q_proj", "k_proj", "v_proj", "o_proj"}
    return set()


def windows(cfg):
    """Each layer's sliding window (None: full causal attention)."""
    n = cfg["num_hidden_layers"]
    if cfg["model_type"] == "mistral":
        return [cfg.get("sliding_window")] * n
    if cfg["model_type"] == "qwen2" and cfg.get("use_sliding_window"):
        return [cfg["sliding_window"] if i >= cfg["max_window_layers"] else None for i in range(n)]
    return [None] * n


def llama3_scaled(freq, s):
    """Llama 3.1's frequency scaling, one frequency at a time: wavelengths shorter than the original context over
    high_freq_factor are kept, longer than it over low_freq_factor divided by factor, and those between blended."""
    old = s["original_max_position_embeddings"]
    wavelen = 2 * math.pi / freq
    if wavelen < old / s["high_freq_factor"]:
        return freq
    if wavelen > old / s["low_freq_factor"]:
        return freq / s["factor"]
    smooth = (old / wavelen - s["low_freq_factor"]) / (s["high_freq_factor"] - s["low_freq_factor"])
    return (1 - smooth) * freq / s["factor"] + smooth * freq


def rotary_frequencies(cfg):
    d = head_dim(cfg)
    freqs = [cfg.get("rope_theta", 10000.0) ** (-2 * i / d) for i in range(d // 2)]
    scaling = cfg.get("rope_scaling")
    if scaling:
        assert scaling.get("rope_type", scaling.get("type")) == "llama3"
        freqs = [llama3_scaled(f, scaling) for f in freqs]
    return torch.tensor(freqs, dtype=torch.float64)


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate(x, cos, sin):
    """x·cos + rotate_half(x)·sin over the two halves of the head (Hugging Face's non-interleaved layout)."""
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


def random_weights(cfg, g):
    c, v, ff = cfg["hidden_size"], cfg["vocab_size"], cfg["intermediate_size"]
    h, kvh, d = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    w = {"model.embed_tokens.weight": torch.randn(v, c, generator=g) * 0.5, "model.norm.weight": 1 + 0.1 * torch.randn(c, generator=g)}
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = torch.randn(v, c, generator=g) / math.sqrt(c)
    shapes = {"q_proj": (h * d, c), "k_proj": (kvh * d, c), "v_proj": (kvh * d, c), "o_proj": (c, h * d)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        for name, (o, i_) in shapes.items():
            w[p + "self_attn." + name + ".weight"] = torch.randn(o, i_, generator=g) / math.sqrt(i_)
            if name in biases(cfg):
                w[p + "self_attn." + name + ".bias"] = 0.3 * torch.randn(o, generator=g)
        for name, (o, i_) in {"gate_proj": (ff, c), "up_proj": (ff, c), "down_proj": (c, ff)}.items():
            w[p + "mlp." + name + ".weight"] = torch.randn(o, i_, generator=g) / math.sqrt(i_)
        w[p + "input_layernorm.weight"] = 1 + 0.1 * torch.randn(c, generator=g)
        w[p + "post_attention_layernorm.weight"] = 1 + 0.1 * torch.randn(c, generator=g)
    return w


def forward(w, cfg, ids):
    """Final hidden states [B, T, C] and logits [B, T, V]."""
    b, t = ids.shape
    h, kvh, d = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    eps = cfg["rms_norm_eps"]
    angles = torch.outer(torch.arange(t, dtype=torch.float64), rotary_frequencies(cfg))
    cos = torch.cat((angles, angles), dim=-1).cos().float()
    sin = torch.cat((angles, angles), dim=-1).sin().float()
    q_at, k_at = torch.arange(t)[:, None], torch.arange(t)[None, :]
    x = w["model.embed_tokens.weight"][ids]
    for i, window in enumerate(windows(cfg)):
        p = f"model.layers.{i}.self_attn."
        proj = lambda name, z: z @ w[p + name + ".weight"].T + (w[p + name + ".bias"] if p + name + ".bias" in w else 0)
        a = rms_norm(x, w[f"model.layers.{i}.input_layernorm.weight"], eps)
        q = proj("q_proj", a).view(b, t, h, d).transpose(1, 2)
        k = proj("k_proj", a).view(b, t, kvh, d).transpose(1, 2)
        vv = proj("v_proj", a).view(b, t, kvh, d).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        k = k.repeat_interleave(h // kvh, dim=1)
        vv = vv.repeat_interleave(h // kvh, dim=1)
        allowed = k_at <= q_at
        if window is not None:  # a query sees itself and the window − 1 keys before it
            allowed = allowed & (q_at - k_at < window)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d)
        att = att.masked_fill(~allowed, torch.finfo(att.dtype).min).softmax(-1)
        y = (att @ vv).transpose(1, 2).reshape(b, t, h * d)
        x = x + proj("o_proj", y)
        m = rms_norm(x, w[f"model.layers.{i}.post_attention_layernorm.weight"], eps)
        mlp = f"model.layers.{i}.mlp."
        x = x + (F.silu(m @ w[mlp + "gate_proj.weight"].T) * (m @ w[mlp + "up_proj.weight"].T)) @ w[mlp + "down_proj.weight"].T
    hidden = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return hidden, hidden @ head.T


def write(name, cfg, dtype, seed, inv_freq_buffers):
    out = os.path.join(GOLDEN, name)
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    # Stored in the published dtype; the reference computes in float32 from exactly the stored values.
    stored = {k: t.to(dtype) for k, t in random_weights(cfg, g).items()}
    w = {k: t.float().requires_grad_(True) for k, t in stored.items()}
    ids = torch.randint(0, cfg["vocab_size"], (2, 12), generator=g)
    hidden, logits = forward(w, cfg, ids)
    v = cfg["vocab_size"]
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, v), ids[:, 1:].reshape(-1))
    loss.backward()
    if inv_freq_buffers:  # checkpoints saved before transformers 4.31 carry each layer's rotary inverse frequencies
        for i in range(cfg["num_hidden_layers"]):
            stored[f"model.layers.{i}.self_attn.rotary_emb.inv_freq"] = rotary_frequencies(cfg).float()
    save_file(stored, os.path.join(out, "model.safetensors"), {"format": "pt"})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    checked = ["model.embed_tokens.weight", "model.layers.0.self_attn.k_proj.weight", "model.layers.1.self_attn.o_proj.weight", "model.layers.1.mlp.gate_proj.weight", "model.norm.weight"]
    checked += [k for k in ("model.layers.1.self_attn.q_proj.bias", "lm_head.weight") if k in w]
    golden = {"input_ids": ids, "logits": logits.detach(), "hidden": hidden.detach(), "loss": loss.detach().reshape(1)}
    golden.update({"grad." + k: w[k].grad for k in checked})
    save_file(golden, os.path.join(out, "golden.safetensors"), {"torch": torch.__version__})
    print(name, "loss", loss.item())


def main():
    for name, (cfg, dtype, seed, buffers) in CHECKPOINTS.items():
        write(name, cfg, dtype, seed, buffers)


if __name__ == "__main__":
    main()
