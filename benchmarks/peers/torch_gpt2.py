"""The GPT-2 training-step benchmark in PyTorch: the same model as benchmarks/suites/gpt2.ts, written by hand.

GPT-2 architecture as Hugging Face's GPT2LMHeadModel (torch 1.13 here has no `transformers`): token + position
embeddings, pre-norm blocks (layer norm -> fused qkv projection -> causal softmax attention -> output projection;
layer norm -> 4*n_embd MLP with gelu_new (tanh approximation)), final layer norm, lm_head tied to the token
embedding, dropout 0. One step: forward, next-token cross-entropy (shifted), backward, AdamW. Imported by
torch_cpu.py; runnable alone: python3 torch_gpt2.py '{"threads": 2, "gpt2": {...}}'.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.c_attn = nn.Linear(d, 3 * d)
        self.attn_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5)
        self.c_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)

    def forward(self, x, mask):
        b, t, d = x.shape
        h = self.heads
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        q = q.view(b, t, h, d // h).transpose(1, 2)
        k = k.view(b, t, h, d // h).transpose(1, 2)
        v = v.view(b, t, h, d // h).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d // h))
        att = att.masked_fill(mask[:, :, :t, :t] == 0, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, d)
        x = x + self.attn_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT2(nn.Module):
    def __init__(self, vocab, seq, d, layers, heads):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(seq, d)
        self.h = nn.ModuleList([Block(d, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d, eps=1e-5)
        self.register_buffer("mask", torch.tril(torch.ones(seq, seq)).view(1, 1, seq, seq))
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.wte(ids) + self.wpe(torch.arange(t))
        for block in self.h:
            x = block(x, self.mask)
        logits = self.ln_f(x) @ self.wte.weight.t()  # lm_head tied to wte
        return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


def token_ids(c, step):
    """The same LCG as tokenIds in benchmarks/suites/gpt2.ts."""
    n = c["batch"] * c["seq"]
    out = [0] * n
    s = (step * 7919 + 1) & 0xFFFFFFFF
    for i in range(n):
        s = (s * 1103515245 + 12345) & 0xFFFFFFFF
        out[i] = (s >> 8) % c["vocab"]
    return torch.tensor(out, dtype=torch.long).view(c["batch"], c["seq"])


def measure(c, min_runs=5, min_time=3.0):
    """Tokens per second of one training step (median step time after a warm-up step)."""
    torch.manual_seed(0)
    model = GPT2(c["vocab"], c["seq"], c["n_embd"], c["n_layer"], c["n_head"])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    batches = [token_ids(c, s) for s in range(8)]
    state = {"step": 0, "loss": float("nan")}

    def step():
        ids = batches[state["step"] % len(batches)]
        state["step"] += 1
        opt.zero_grad(set_to_none=True)
        loss = model(ids)
        loss.backward()
        opt.step()
        state["loss"] = loss.item()

    step()
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or (time.perf_counter() - start < min_time and len(times) < 20):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    s = times[len(times) // 2]
    return {"tokensPerSecond": c["batch"] * c["seq"] / s, "ms": s * 1e3, "loss": state["loss"]}


if __name__ == "__main__":
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    print(json.dumps({"gpt2": measure(cfg["gpt2"]), "threads": torch.get_num_threads()}))
