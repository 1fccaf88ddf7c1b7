#!/usr/bin/env python3
"""Golden fixture for tests/kernels/augment_test.cpp: each step of the SimCLR augmentation made by
torchvision.transforms.functional at fixed parameters (Debian's python3-torch and
python3-torchvision; needed only to regenerate, not to build or test).

    /usr/bin/python3 tests/data/make_augment_fixture.py    # writes tests/data/augment.safetensors

Two small uint8 images, "rgb" (17 x 23 x 3) and "gray" (17 x 23 x 1), stored HWC as "<image>.image";
for each case "<image>.<case>" is the result on the float image (uint8 / 255), HWC, fp32. The
parameters of each case are written here and again in the test (keep the two in step).
"""
import json
import os

import torch
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

from make_fixtures import save_safetensors

HERE = os.path.dirname(os.path.abspath(__file__))

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def resized_crop(x, top, left, height, width, size):
    return F.resized_crop(x, top, left, height, width, size, InterpolationMode.BILINEAR,
                          antialias=False)


JITTER = {0: lambda x, f: F.adjust_brightness(x, f["b"]), 1: lambda x, f: F.adjust_contrast(x, f["c"]),
          2: lambda x, f: F.adjust_saturation(x, f["s"]), 3: lambda x, f: F.adjust_hue(x, f["h"])}


def jitter(x, order, factors):
    for op in order:
        x = JITTER[op](x, factors)
    return x


def cases(x):
    c = x.shape[0]
    mean, std = MEAN[:c], STD[:c]
    return {
        # crop box (top, left, height, width) -> output size
        "crop": resized_crop(x, 2, 3, 11, 15, [13, 19]),
        "crop_up": resized_crop(x, 5, 1, 7, 9, [20, 29]),
        "flip": F.hflip(x),
        "brightness": F.adjust_brightness(x, 1.37),
        "contrast": F.adjust_contrast(x, 0.55),
        "saturation": F.adjust_saturation(x, 1.6),
        "hue": F.adjust_hue(x, 0.23),
        "hue_neg": F.adjust_hue(x, -0.41),
        "grayscale": F.rgb_to_grayscale(x, num_output_channels=c),
        "blur": F.gaussian_blur(x, [5, 5], [1.3, 1.3]),
        "normalize": F.normalize(x, mean, std),
        "jitter_order": jitter(x, [3, 1, 0, 2], dict(b=0.7, c=1.45, s=0.35, h=-0.12)),
        "full": F.normalize(F.gaussian_blur(
            jitter(F.hflip(resized_crop(x, 1, 4, 14, 16, [15, 15])), [2, 0, 3, 1],
                   dict(b=1.2, c=0.6, s=1.5, h=0.3)), [3, 3], [0.7, 0.7]), mean, std),
    }


def main():
    g = torch.Generator().manual_seed(20261201)
    images = {"rgb": torch.randint(0, 256, (3, 17, 23), generator=g, dtype=torch.uint8),
              "gray": torch.randint(0, 256, (1, 17, 23), generator=g, dtype=torch.uint8)}
    out = {}
    for name, img in images.items():
        out[name + ".image"] = img.permute(1, 2, 0).contiguous()
        x = img.float() / 255
        for case, y in cases(x).items():
            out[f"{name}.{case}"] = y.permute(1, 2, 0).contiguous().float()
    path = os.path.join(HERE, "augment.safetensors")
    save_safetensors(path, out, {"torchvision": __import__("torchvision").__version__,
                                 "mean": json.dumps(MEAN), "std": json.dumps(STD)})
    print(f"wrote {path}: {len(out)} tensors, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
