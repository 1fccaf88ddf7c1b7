#!/usr/bin/env python3
"""The NT-Xent fixture for tests/kernels/nt_xent_test.cpp, made with the standard PyTorch
implementation (Debian's python3-torch; needed only to regenerate, not to build or test):
normalize, matmul, mask the diagonal with -inf, cross-entropy against the partner row, mean.
Pair convention (kernels/nt_xent.h): rows n and n + N are the two views of sample n.

    python3 tests/data/make_nt_xent_fixture.py    # writes tests/data/nt_xent.safetensors

Tensors (float64): "z" [12, 7]; for normalize=True at temperature 0.5, "loss" (scalar) and
"grad" (d loss / d z); for normalize=False at temperature 0.2, "loss.raw" and "grad.raw".
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import save_safetensors  # noqa: E402  (the tiny writer, no safetensors module)


def nt_xent(z, temperature, normalize):
    if normalize:
        z = torch.nn.functional.normalize(z, dim=1)
    m = z.shape[0]
    n = m // 2
    s = z @ z.t() / temperature
    s = s.masked_fill(torch.eye(m, dtype=torch.bool), float("-inf"))
    target = torch.cat([torch.arange(n, m), torch.arange(0, n)])
    return torch.nn.functional.cross_entropy(s, target)


def main():
    torch.manual_seed(4)
    z = torch.randn(12, 7, dtype=torch.float64)
    out = {"z": z}
    for suffix, temperature, normalize in (("", 0.5, True), (".raw", 0.2, False)):
        x = z.clone().requires_grad_(True)
        loss = nt_xent(x, temperature, normalize)
        loss.backward()
        out["loss" + suffix] = loss.detach()
        out["grad" + suffix] = x.grad.detach()
    meta = {"temperature": "0.5", "temperature.raw": "0.2", "pairs": "n and n + N",
            "torch": torch.__version__}
    save_safetensors(os.path.join(HERE, "nt_xent.safetensors"), out, meta)


if __name__ == "__main__":
    main()
