"""PyTorch twin of bench/optimizer_bench.cpp: one optimizer step over torchvision's ResNet-50
parameters without the fc (159 tensors, 23.5M values, as our ResNet with num_classes 0) with random
gradients. SGD and AdamW are torch.optim's fused=True versions on the GPU (foreach=True on the CPU,
or where this PyTorch has no fused form); LARS, which torch.optim lacks, is written with the
foreach ops as SimCLR's lars_optimizer.py computes it (1-D parameters, biases and BN, excluded).
Prints time and GB/s counted as the C++ side does (LARS and AdamW 28 bytes per value, SGD 20).

    python3 bench/pytorch/optimizer_bench.py
"""
import torch
import torchvision

from bench_common import DEVICE, timed


def lars_step(params, grads, bufs, lr, momentum=0.9, weight_decay=1e-6, eta=1e-3):
    decayed = [i for i, p in enumerate(params) if p.ndim > 1]
    excluded = [i for i, p in enumerate(params) if p.ndim <= 1]
    p_dec = [params[i] for i in decayed]
    g_dec = torch._foreach_add([grads[i] for i in decayed], p_dec, alpha=weight_decay)
    w_norm = torch.stack(torch._foreach_norm(p_dec))
    g_norm = torch.stack(torch._foreach_norm(g_dec))
    trust = torch.where((w_norm > 0) & (g_norm > 0), eta * w_norm / g_norm, torch.ones_like(w_norm))
    steps = list(grads)
    for i, t, g in zip(decayed, (lr * trust).unbind(), g_dec):
        steps[i] = g * t
    for i in excluded:
        steps[i] = grads[i] * lr
    torch._foreach_mul_(bufs, momentum)
    torch._foreach_add_(bufs, steps)
    torch._foreach_sub_(params, bufs)


def fastest(optimizer, params, **kwargs):
    """The fused form on the GPU when this PyTorch has it, else the foreach form."""
    if DEVICE == "cuda":
        try:
            return optimizer(params, fused=True, **kwargs)
        except (TypeError, RuntimeError):
            pass
    return optimizer(params, foreach=True, **kwargs)


def main():
    model = torchvision.models.resnet50()
    model.fc = torch.nn.Identity()
    model = model.to(DEVICE)
    params = [p for p in model.parameters()]
    for p in params:
        p.grad = torch.rand_like(p).mul_(2).sub_(1)
    values = sum(p.numel() for p in params)
    sgd = fastest(torch.optim.SGD, params, lr=1e-3, momentum=0.9, weight_decay=1e-6)
    adamw = fastest(torch.optim.AdamW, params, lr=1e-3, weight_decay=1e-6)
    bufs = [torch.zeros_like(p) for p in params]
    grads = [p.grad for p in params]
    rows = []
    with torch.no_grad():
        for rule, step, per_value in (("lars", lambda: lars_step(params, grads, bufs, 1e-3), 28),
                                      ("sgd", sgd.step, 20), ("adamw", adamw.step, 28)):
            s = timed(step)
            rows.append((f"optimizer_step/{DEVICE}/{rule}", s, per_value * values / s / 2**30))
    print(f"PyTorch {torch.__version__} on {DEVICE}: {len(params)} tensors, {values} values")
    for name, seconds, rate in rows:
        print(f"{name:42s} {seconds * 1e6:12.1f} us  bytes_per_second={rate:.2f}G/s")


if __name__ == "__main__":
    main()
