"""PyTorch's side of the 1.1B LLaMA benchmark (benchmarks/suites/tinyllama.ts): a training step of a model with the
TinyLlama-1.1B configuration (22 layers, hidden 2048, intermediate 5632, 32 heads, 4 KV heads, vocab 32000) on one
batch, full fine-tuning (AdamW on every parameter) or LoRA (rank r on every projection, AdamW on the adapters), in
float32 or bfloat16, gradient checkpointing per block as Hugging Face's `gradient_checkpointing_enable()` does.

No `transformers` on these machines: the model is a plain re-implementation of LlamaForCausalLM from the
architecture (RMSNorm, rotary embeddings, grouped-query attention, SwiGLU), random weights (values do not change
bytes or time). One configuration per process, so ru_maxrss is that configuration's peak.

  /usr/bin/python3 benchmarks/peers/torch_tinyllama.py --method full|lora --dtype float32|bfloat16 [--steps 3]
      [--seq 256] [--threads N] [--rank 12] [--layers 22]

Prints one JSON line: {"method", "dtype", "peakRssBytes", "stepSeconds": [...], "tokensPerSecond", "trainable"}.
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

CONFIG = dict(vocab=32000, hidden=2048, intermediate=5632, heads=32, kv_heads=4, eps=1e-5, theta=10000.0)


class Linear(torch.nn.Module):
    """A bias-free projection, optionally with a LoRA adapter (B·A scaled by alpha/r, B zero at the start)."""

    def __init__(self, out_f, in_f, dtype, rank=0, alpha=16):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(out_f, in_f, dtype=dtype).normal_(0, 0.02))
        self.rank = rank
        if rank:
            self.lora_A = torch.nn.Parameter(torch.empty(rank, in_f, dtype=dtype).normal_(0, 1 / math.sqrt(in_f)))
            self.lora_B = torch.nn.Parameter(torch.zeros(out_f, rank, dtype=dtype))
            self.scale = alpha / rank

    def forward(self, x):
        y = x @ self.weight.T
        if self.rank:
            y = y + (x @ self.lora_A.T) @ self.lora_B.T * self.scale
        return y


def rms_norm(x, w, eps):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * w


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Block(torch.nn.Module):
    def __init__(self, dtype, rank):
        super().__init__()
        c, ff, h, kvh = CONFIG["hidden"], CONFIG["intermediate"], CONFIG["heads"], CONFIG["kv_heads"]
        d = c // h
        self.q = Linear(h * d, c, dtype, rank)
        self.k = Linear(kvh * d, c, dtype, rank)
        self.v = Linear(kvh * d, c, dtype, rank)
        self.o = Linear(c, h * d, dtype, rank)
        self.gate = Linear(ff, c, dtype, rank)
        self.up = Linear(ff, c, dtype, rank)
        self.down = Linear(c, ff, dtype, rank)
        self.ln1 = torch.nn.Parameter(torch.ones(c, dtype=dtype))
        self.ln2 = torch.nn.Parameter(torch.ones(c, dtype=dtype))

    def forward(self, x, cos, sin):
        b, t, c = x.shape
        h, kvh = CONFIG["heads"], CONFIG["kv_heads"]
        d = c // h
        a = rms_norm(x, self.ln1, CONFIG["eps"])
        q = self.q(a).view(b, t, h, d).transpose(1, 2)
        k = self.k(a).view(b, t, kvh, d).transpose(1, 2)
        v = self.v(a).view(b, t, kvh, d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(h // kvh, dim=1)
        v = v.repeat_interleave(h // kvh, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d)
        causal = torch.ones(t, t, dtype=torch.bool).tril()
        att = att.masked_fill(~causal, torch.finfo(att.dtype).min).softmax(-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(b, t, c))
        m = rms_norm(x, self.ln2, CONFIG["eps"])
        return x + self.down(F.silu(self.gate(m)) * self.up(m))


class Llama(torch.nn.Module):
    def __init__(self, layers, dtype, rank):
        super().__init__()
        c = CONFIG["hidden"]
        self.embed = torch.nn.Parameter(torch.empty(CONFIG["vocab"], c, dtype=dtype).normal_(0, 0.02))
        self.blocks = torch.nn.ModuleList(Block(dtype, rank) for _ in range(layers))
        self.norm = torch.nn.Parameter(torch.ones(c, dtype=dtype))
        self.lm_head = Linear(CONFIG["vocab"], c, dtype)

    def forward(self, ids, checkpointing):
        t = ids.shape[1]
        d = CONFIG["hidden"] // CONFIG["heads"]
        inv = 1.0 / (CONFIG["theta"] ** (torch.arange(0, d, 2).float() / d))
        emb = torch.outer(torch.arange(t).float(), inv)
        emb = torch.cat((emb, emb), dim=-1)
        cos, sin = emb.cos().to(self.embed.dtype), emb.sin().to(self.embed.dtype)
        x = self.embed[ids]
        for blk in self.blocks:
            x = checkpoint(blk, x, cos, sin, use_reentrant=False) if checkpointing and self.training else blk(x, cos, sin)
        logits = self.lm_head(rms_norm(x, self.norm, CONFIG["eps"]))
        return F.cross_entropy(logits[:, :-1].reshape(-1, CONFIG["vocab"]).float(), ids[:, 1:].reshape(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", choices=["full", "lora"], required=True)
    ap.add_argument("--dtype", choices=["float32", "bfloat16"], required=True)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--rank", type=int, default=12)
    ap.add_argument("--layers", type=int, default=22)
    ap.add_argument("--no-checkpointing", action="store_true")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dtype = torch.float32 if a.dtype == "float32" else torch.bfloat16
    rank = a.rank if a.method == "lora" else 0
    model = Llama(a.layers, dtype, rank)
    model.train()
    if a.method == "lora":
        for n, p in model.named_parameters():
            p.requires_grad_("lora_" in n)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.0)
    gen = torch.Generator().manual_seed(1)
    times = []
    for _ in range(a.steps):
        ids = torch.randint(0, CONFIG["vocab"], (1, a.seq), generator=gen)
        t0 = time.perf_counter()
        loss = model(ids, not a.no_checkpointing)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t0)
        if not math.isfinite(loss.item()):
            raise SystemExit(f"loss is {loss.item()}")
    measured = times[1:] or times
    print(json.dumps({
        "method": a.method,
        "dtype": a.dtype,
        "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "stepSeconds": times,
        "tokensPerSecond": a.seq / (sum(measured) / len(measured)),
        "trainable": sum(p.numel() for p in params),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
