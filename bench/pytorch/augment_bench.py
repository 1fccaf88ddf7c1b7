"""PyTorch twin of bench/augment_bench.cpp: the SimCLR augmentation with torchvision's transforms
on GPU tensors (the CPU when there is none), at the same sizes: 32 -> 32 px without blur and
256 -> 224 px with blur, two views per image, output normalized in f32 or bf16.

torchvision draws one set of parameters per call, so "per_image" applies the transform to each
image separately (what SimCLR needs: every view its own parameters); "batched" applies one draw to
the whole batch, a lower bound on torchvision's time that does not give per-sample views.

    python3 bench/pytorch/augment_bench.py
"""
import torch
from torchvision import transforms as T

from bench_common import DEVICE, DTYPES, timed


def simclr_transform(size, blur, s=1.0):
    steps = [
        T.RandomResizedCrop(size, antialias=False),
        T.RandomHorizontalFlip(),
        T.RandomApply([T.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s)], p=0.8),
        T.RandomGrayscale(p=0.2),
    ]
    if blur:
        k = int(0.1 * size)
        steps.append(T.RandomApply([T.GaussianBlur(k + 1 if k % 2 == 0 else k, (0.1, 2.0))], p=0.5))
    steps.append(T.Normalize([0.5] * 3, [0.5] * 3))
    return T.Compose(steps)


def main():
    cpu = DEVICE == "cpu"
    rows = []
    for n, side, out, blur in ((64 if cpu else 1024, 32, 32, False), (4 if cpu else 256, 256, 224, True)):
        images = torch.randint(0, 256, (n, 3, side, side), dtype=torch.uint8, device=DEVICE)
        transform = simclr_transform(out, blur)
        for name, dt in DTYPES.items():
            def per_image():
                x = images.float().div_(255)
                views = [transform(x[i]) for _ in range(2) for i in range(n)]
                return torch.stack(views).to(dt).permute(0, 2, 3, 1).contiguous()

            def batched():
                x = images.float().div_(255)
                return torch.cat([transform(x), transform(x)]).to(dt).permute(0, 2, 3, 1).contiguous()

            nbytes = images.numel() + 2 * n * out * out * 3 * (4 if dt == torch.float32 else 2)
            for mode, fn in (("per_image", per_image), ("batched", batched)):
                sec = timed(fn, min_time=0.2)
                rows.append((f"augment/{DEVICE}/{name}/{n}/{side}/{out}/{int(blur)}/{mode}", sec,
                             f"views_per_second={2 * n / sec / 1e3:.1f}k "
                             f"bytes_per_second={nbytes / sec / 2**30:.2f}G/s"))
    print(f"PyTorch {torch.__version__} on {DEVICE}")
    for name, seconds, rate in rows:
        print(f"{name:50s} {seconds * 1e6:12.1f} us  {rate}")


if __name__ == "__main__":
    main()
