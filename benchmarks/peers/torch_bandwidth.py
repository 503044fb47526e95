"""PyTorch on the CPU: the memory-bound cases of benchmarks/suites/bandwidth.ts, the same math and the same least
bytes moved, as GB/s. Imported by torch_cpu.py. torch 1.13 has no RMS norm: it is written as Hugging Face's
LlamaRMSNorm writes it (x · rsqrt(mean(x²) + eps) · w), what a PyTorch user runs.
"""
import math

import torch

BYTES = {
    "copy": lambda n: 8 * n,
    "layer norm fwd": lambda n: 8 * n,
    "layer norm fwd+bwd": lambda n: 20 * n,
    "RMS norm fwd+bwd": lambda n: 20 * n,
    "softmax fwd+bwd": lambda n: 20 * n,
    "gelu (tanh) fwd+bwd": lambda n: 20 * n,
    "AdamW step": lambda n: 28 * n,
    "SIFT step (k = 1%)": lambda n: 40 * math.ceil(n / 100),
}


def measure_bandwidth(c, median_seconds):
    rows, cols = c["rows"], c["cols"]
    n = rows * cols
    x = torch.randn(rows, cols)
    dy = torch.randn(rows, cols)
    out = {}

    def fwd_bwd(f, params=()):
        xg = x.detach().clone().requires_grad_()

        def step():
            for p in (xg, *params):
                p.grad = None
            f(xg).backward(dy)

        return step

    w = torch.ones(cols, requires_grad=True)
    b = torch.zeros(cols, requires_grad=True)

    def rms(t):
        return t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + 1e-6) * w

    p, g = x.clone(), dy.clone()
    opt = torch.optim.AdamW([p], lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    p.grad = g

    # SIFT's step as PyTorch writes it (benchmarks/peers/torch_sift.py): AdamW on k values, then w[idx] = base + δ.
    k = math.ceil(n / 100)
    param = x.clone().view(-1)
    idx = dy.view(-1).abs().topk(k).indices
    base = param[idx].clone()
    delta, grad, m, v = torch.zeros(k), torch.randn(k), torch.zeros(k), torch.zeros(k)
    t = [0]

    def sift_step():
        t[0] += 1
        m.mul_(0.9).add_(grad, alpha=0.1)
        v.mul_(0.999).addcmul_(grad, grad, value=0.001)
        denom = (v.sqrt() / math.sqrt(1 - 0.999 ** t[0])).add_(1e-8)
        delta.addcdiv_(m, denom, value=-1e-3 / (1 - 0.9 ** t[0]))
        param.index_copy_(0, idx, base + delta)

    with torch.no_grad():
        cases = {
            "copy": lambda: x.clone(),
            "layer norm fwd": lambda: torch.nn.functional.layer_norm(x, (cols,), w, b, 1e-5),
            "AdamW step": opt.step,
            "SIFT step (k = 1%)": sift_step,
        }
        for name, fn in cases.items():
            out[name] = BYTES[name](n) / median_seconds(fn) / 1e9
    grads = {
        "layer norm fwd+bwd": fwd_bwd(lambda t: torch.nn.functional.layer_norm(t, (cols,), w, b, 1e-5), (w, b)),
        "RMS norm fwd+bwd": fwd_bwd(rms, (w,)),
        "softmax fwd+bwd": fwd_bwd(lambda t: torch.softmax(t, -1)),
        "gelu (tanh) fwd+bwd": fwd_bwd(lambda t: torch.nn.functional.gelu(t, approximate="tanh")),
    }
    for name, fn in grads.items():
        out[name] = BYTES[name](n) / median_seconds(fn) / 1e9
    return out
