"""PyTorch twin of bench/nt_xent_bench.cpp: the naive NT-Xent (normalize, matmul, mask the
diagonal, cross-entropy against the partner row n <-> n + N, mean), forward + backward at D = 128
and the same M, on the GPU when there is one (M <= 2048 on the CPU). Prints time, FLOP/s counted
as 4 M^2 D (the two M x M x D products of forward and backward, as the C++ side counts) and, on
CUDA, the peak memory of one iteration. On CUDA, f32-tf32 is f32 with matmuls on TF32 tensor cores
(allow_tf32), the twin of nt_xent_fused_tf32.

    python3 bench/pytorch/nt_xent_bench.py
"""
import torch

from bench_common import DEVICE, DTYPES, timed

SIZES = (512, 2048, 4096, 16384, 32768, 65536)
D = 128


def nt_xent(z, temperature=0.1):
    z = torch.nn.functional.normalize(z, dim=1)
    m = z.shape[0]
    n = m // 2
    s = z @ z.t() / temperature
    s = s.masked_fill(torch.eye(m, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(n, m), torch.arange(0, n)]).to(z.device)
    return torch.nn.functional.cross_entropy(s.float(), target)


def variants():
    """(name, dtype, allow_tf32) for each run."""
    runs = [(name, dt, False) for name, dt in DTYPES.items()]
    if DEVICE == "cuda":
        runs.append(("f32-tf32", torch.float32, True))
    return runs


def main():
    print(f"PyTorch {torch.__version__} on {DEVICE}")
    for name, dt, tf32 in variants():
        torch.backends.cuda.matmul.allow_tf32 = tf32
        for m in SIZES:
            if DEVICE == "cpu" and m > 2048:
                continue
            z = torch.randn(m, D, device=DEVICE, dtype=dt, requires_grad=True)

            def step():
                z.grad = None
                nt_xent(z).backward()

            label = f"nt_xent_naive/{DEVICE}/{name}/{m}/{D}"
            try:
                if DEVICE == "cuda":
                    torch.cuda.empty_cache()
                    torch.cuda.reset_peak_memory_stats()
                s = timed(step)
            except RuntimeError as e:  # out of memory (torch.cuda.OutOfMemoryError in recent versions)
                if "out of memory" not in str(e):
                    raise
                print(f"{label:42s} out of memory")
                continue
            peak = f"  peak_MiB={torch.cuda.max_memory_allocated() / 2**20:.1f}" if DEVICE == "cuda" else ""
            print(f"{label:42s} {s * 1e6:12.1f} us  FLOP={4 * m * m * D / s / 1e9:.1f}G/s{peak}")


if __name__ == "__main__":
    main()
