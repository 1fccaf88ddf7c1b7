"""PyTorch twins of bench/{matmul,binary,reduce,softmax}_bench.cpp, same shapes and dtypes, on the
GPU when there is one. Prints one line per workload in the units the C++ benchmarks report, so a
GPU run gives side-by-side ratios (scripts/gpu-check runs this after them).

    python3 bench/pytorch/ops_bench.py
"""
import torch

from bench_common import DEVICE, DTYPES, timed


def rand(shape, dtype):
    return torch.rand(shape, device=DEVICE, dtype=torch.float32).mul_(2).sub_(1).to(dtype)


def main():
    # TF32 off: our f32 matmul is full fp32.
    torch.backends.cuda.matmul.allow_tf32 = False
    rows = []
    for name in ("f32", "bf16"):
        dt = DTYPES[name]
        for m, k, n in ((256, 256, 256), (1024, 1024, 1024), (4096, 128, 4096)):
            a, b = rand((m, k), dt), rand((k, n), dt)
            s = timed(lambda: a @ b)
            rows.append((f"matmul/{DEVICE}/{name}/{m}/{k}/{n}", s, f"FLOP={2 * m * n * k / s / 1e9:.1f}G/s"))
        for r, c, bc in ((1024, 1024, 0), (1024, 1024, 1), (8192, 2048, 0)):
            a, b = rand((r, c), dt), rand((1 if bc else r, c), dt)
            nbytes = (2 if bc else 3) * a.numel() * a.element_size()
            s = timed(lambda: a + b)
            rows.append((f"add/{DEVICE}/{name}/{r}/{c}/{bc}", s, f"bytes_per_second={nbytes / s / 2**30:.2f}G/s"))
        for r, c in ((4096, 1000), (512, 16384)):
            x = rand((r, c), dt)
            s = timed(lambda: torch.softmax(x, 1))
            rows.append((f"softmax/{DEVICE}/{name}/{r}/{c}", s,
                         f"bytes_per_second={2 * x.numel() * x.element_size() / s / 2**30:.2f}G/s"))
    for r, c, dim in ((4096, 4096, 1), (4096, 4096, 0), (256, 100000, 1)):
        x = rand((r, c), torch.float32)
        s = timed(lambda: x.sum(dim))
        rows.append((f"sum/{DEVICE}/f32/{r}/{c}/{dim}", s,
                     f"bytes_per_second={x.numel() * 4 / s / 2**30:.2f}G/s"))
    print(f"PyTorch {torch.__version__} on {DEVICE}")
    for name, seconds, rate in rows:
        print(f"{name:42s} {seconds * 1e6:12.1f} us  {rate}")


if __name__ == "__main__":
    main()
