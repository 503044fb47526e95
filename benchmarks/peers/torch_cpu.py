"""PyTorch on the CPU, the same benchmarks as benchmarks/suites: f32 matmul, a 2-layer MLP forward+backward,
causal attention and layer norm forward+backward (suites/ops.ts), the memory-bound kernels as GB/s
(torch_bandwidth.py, suites/bandwidth.ts) and the GPT-2 training step (model in
torch_gpt2.py).

Run by benchmarks/run.ts with Debian's /usr/bin/python3 (python3-torch + OpenBLAS). Prints one JSON object.
"""
import json
import sys
import time

import torch

from torch_bandwidth import measure_bandwidth
from torch_gpt2 import measure as measure_gpt2


def median_seconds(fn, min_runs=3, min_time=1.0):
    fn()  # warm-up
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= 50:
            break
    times.sort()
    return times[len(times) // 2]


def zero_grads(*ts):
    for t in ts:
        t.grad = None


def measure_attention(c):
    """softmax(q kᵀ/√d + causal mask) v by hand (torch 1.13 has no F.scaled_dot_product_attention), loss = sum."""
    shape = (c["batch"], c["heads"], c["seq"], c["dim"])
    q, k, v = (torch.randn(shape, requires_grad=True) for _ in range(3))
    t = c["seq"]
    mask = torch.triu(torch.full((t, t), -1e9), diagonal=1)
    scale = 1 / c["dim"] ** 0.5

    def step():
        zero_grads(q, k, v)
        att = torch.softmax(q @ k.transpose(-2, -1) * scale + mask, dim=-1)
        (att @ v).sum().backward()

    return median_seconds(step) * 1e3


def measure_layernorm(c):
    x = torch.randn(c["rows"], c["dim"], requires_grad=True)
    w = torch.ones(c["dim"], requires_grad=True)
    b = torch.zeros(c["dim"], requires_grad=True)

    def step():
        zero_grads(x, w, b)
        torch.nn.functional.layer_norm(x, (c["dim"],), w, b, 1e-5).sum().backward()

    return median_seconds(step) * 1e3


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    out = {"version": torch.__version__, "threads": torch.get_num_threads(), "matmul": {}, "mlp": None}
    for n in cfg["matmul_sizes"]:
        a = torch.randn(n, n)
        b = torch.randn(n, n)
        s = median_seconds(lambda: torch.mm(a, b))
        out["matmul"][str(n)] = 2 * n**3 / s / 1e9
    m = cfg["mlp"]
    x = torch.randn(m["batch"], m["inputs"])
    y = torch.randn(m["batch"], m["outputs"])
    w1 = (torch.randn(m["inputs"], m["hidden"]) * 0.05).requires_grad_()
    b1 = torch.zeros(m["hidden"], requires_grad=True)
    w2 = (torch.randn(m["hidden"], m["outputs"]) * 0.05).requires_grad_()
    b2 = torch.zeros(m["outputs"], requires_grad=True)

    def step():
        for p in (w1, b1, w2, b2):
            p.grad = None
        loss = ((torch.tanh(x @ w1 + b1) @ w2 + b2 - y) ** 2).mean()
        loss.backward()

    out["mlp"] = median_seconds(step) * 1e3
    if cfg.get("ops"):
        out["attention"] = measure_attention(cfg["ops"]["attention"])
        out["layernorm"] = measure_layernorm(cfg["ops"]["layernorm"])
    if cfg.get("bandwidth"):
        out["bandwidth"] = measure_bandwidth(cfg["bandwidth"], median_seconds)
    if cfg.get("gpt2"):
        out["gpt2"] = measure_gpt2(cfg["gpt2"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
