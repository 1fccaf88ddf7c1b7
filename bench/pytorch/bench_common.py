"""What the PyTorch twins share: the device, the dtypes by our names, and a timing loop that
synchronizes the device the way bench/bench_util.cpp does."""
import time

import torch

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16}


def timed(step, min_time=0.05):
    """Mean seconds per call after one warm-up."""
    step()
    if DEVICE == "cuda":
        torch.cuda.synchronize()
    calls, start = 0, time.perf_counter()
    while True:
        step()
        calls += 1
        if DEVICE == "cuda":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / calls
