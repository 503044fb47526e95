"""The matmul peer of the benchmark phase: torch.matmul in float32, on CUDA (cuBLAS) where torch has it, else on the
CPU (a labelled stand-in). TF32 is switched off so that both sides compute full float32 products.

    python3 scripts/gpu-verify/torch_matmul.py '{"sizes": [1024, 4096]}'   -> one JSON line
"""
import json
import sys
import time

import torch


def median_seconds(fn, sync, min_runs=3, min_time=1.0, max_runs=50):
    fn()
    sync()
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or (time.perf_counter() - start < min_time and len(times) < max_runs):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main():
    cfg = json.loads(sys.argv[1])
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = False
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    torch.manual_seed(0)
    out = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0) if cuda else "cpu", "cuda": cuda, "threads": torch.get_num_threads(), "gflops": {}}
    for n in cfg["sizes"]:
        a = torch.randn(n, n, device=device)
        b = torch.randn(n, n, device=device)
        s = median_seconds(lambda: torch.matmul(a, b), sync)
        out["gflops"][str(n)] = 2 * n**3 / s / 1e9
    print(json.dumps(out))


if __name__ == "__main__":
    main()
