"""One SIFT fine-tuning step in PyTorch, as the paper's Figure 5 describes it: the peer of benchmarks/suites/sift-step.ts.

The model is benchmarks/peers/torch_gpt2.py's GPT-2 (GPT2LMHeadModel's architecture, dropout 0). For every targeted
weight (every block's c_attn, attention output, c_fc and MLP output projections, weights and biases) a sparse
parameter holds k = ceil(x*n) values; the indices are the top-k |G| of the first batch's gradient; a hook on the
weight gathers G[idx] into the sparse parameter's gradient; torch.optim.AdamW steps the sparse values (k-sized
state); the weight is then written as base + delta at the indices. Every other parameter is frozen. The dense
gradient of a targeted weight still lands in .grad after its hook in torch 1.13 (a hook cannot drop it there), so
it is freed right after backward, as the authors' code does.

  python3 torch_sift.py '{"threads": 2, "density": 0.01, "gpt2": {...}, "steps": 4}'
"""
import json
import math
import sys
import time

import torch

from torch_gpt2 import GPT2, token_ids

TARGETS = ("c_attn", "attn_proj", "c_fc", "mlp_proj")


class SparseIncrement:
    """One targeted parameter: indices, base values, the increment (an nn.Parameter AdamW steps) and its hook."""

    def __init__(self, p, density):
        self.p = p
        self.k = max(1, math.ceil(density * p.numel()))
        self.idx = None
        self.base = None
        self.delta = torch.nn.Parameter(torch.zeros(self.k))
        p.requires_grad_(True)
        p.register_hook(self.hook)

    def hook(self, g):
        flat = g.reshape(-1)
        if self.idx is None:
            self.idx = flat.abs().topk(self.k).indices
            self.base = self.p.detach().reshape(-1)[self.idx].clone()
        gathered = flat[self.idx]
        self.delta.grad = gathered if self.delta.grad is None else self.delta.grad + gathered

    def write_back(self):
        with torch.no_grad():
            self.p.view(-1)[self.idx] = self.base + self.delta


def measure(c, density, steps):
    torch.manual_seed(0)
    model = GPT2(c["vocab"], c["seq"], c["n_embd"], c["n_layer"], c["n_head"])
    for p in model.parameters():
        p.requires_grad_(False)
    sparse = [SparseIncrement(p, density) for n, p in model.named_parameters() if any(t in n for t in TARGETS)]
    opt = torch.optim.AdamW([s.delta for s in sparse], lr=1e-4, weight_decay=0.0)
    batches = [token_ids(c, s) for s in range(8)]
    times = []
    loss = float("nan")
    for step in range(steps + 1):
        t0 = time.perf_counter()
        ids = batches[step % len(batches)]
        loss = model(ids)
        loss.backward()
        for s in sparse:
            s.p.grad = None  # the dense gradient torch 1.13 accumulated after the hook
        opt.step()
        opt.zero_grad(set_to_none=True)
        for s in sparse:
            s.write_back()
        loss = loss.item()
        if step > 0:  # the first step also selects
            times.append(time.perf_counter() - t0)
    times.sort()
    s = times[len(times) // 2]
    return {"tokensPerSecond": c["batch"] * c["seq"] / s, "ms": s * 1e3, "loss": loss, "trainable": sum(x.k for x in sparse)}


if __name__ == "__main__":
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    print(json.dumps({"sift": measure(cfg["gpt2"], cfg["density"], cfg.get("steps", 4)), "threads": torch.get_num_threads()}))
