#!/usr/bin/env python3
"""Golden fixture for tests/simclr/image_decode_test.cpp: what PIL and torchvision make of two small
random images (Debian's python3-pil, python3-torch and python3-torchvision; needed only to
regenerate, not to build or test).

    /usr/bin/python3 tests/data/make_image_decode_fixture.py   # writes tests/data/image_decode.safetensors

Images "rgb" (13 x 17 x 3) and "gray" (15 x 11 x 1), uint8 HWC, as "<image>.image"; for each:
  "<image>.resize_<h>x<w>"     Image.resize((w, h), BILINEAR)
  "<image>.resize_crop_<s>"    transforms.Resize(s) then transforms.CenterCrop(s)
  "<image>.jpeg"               the bytes of Image.save(format="JPEG", quality=90) (progressive for
                               gray), and "<image>.jpeg_decoded" what PIL decodes from them
and "rgb.luma" = convert("L"), "rgb.luma_resize_crop_6" = convert("L") then Resize(6), CenterCrop(6).
Sizes are written here and again in the test (keep the two in step).
"""
import io
import os

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image
from torchvision import transforms

from make_fixtures import save_safetensors

HERE = os.path.dirname(os.path.abspath(__file__))

RESIZES = [(5, 7), (29, 40), (9, 30), (13, 4)]
CROPS = [6, 8, 13, 20]


def hwc(image):
    array = np.asarray(image, dtype=np.uint8)
    return torch.from_numpy(array.reshape(array.shape[0], array.shape[1], -1).copy())


def resize_crop(image, size):
    return transforms.CenterCrop(size)(transforms.Resize(size)(image))


def jpeg(image, progressive):
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90, progressive=progressive)
    data = buffer.getvalue()
    return torch.frombuffer(bytearray(data), dtype=torch.uint8), hwc(Image.open(io.BytesIO(data)))


def main():
    rng = np.random.default_rng(20261207)
    images = {"rgb": Image.fromarray(rng.integers(0, 256, (13, 17, 3), dtype=np.uint8), "RGB"),
              "gray": Image.fromarray(rng.integers(0, 256, (15, 11), dtype=np.uint8), "L")}
    out = {}
    for name, image in images.items():
        out[f"{name}.image"] = hwc(image)
        for h, w in RESIZES:
            out[f"{name}.resize_{h}x{w}"] = hwc(image.resize((w, h), Image.BILINEAR))
        for s in CROPS:
            out[f"{name}.resize_crop_{s}"] = hwc(resize_crop(image, s))
        out[f"{name}.jpeg"], out[f"{name}.jpeg_decoded"] = jpeg(image, name == "gray")
    luma = images["rgb"].convert("L")
    out["rgb.luma"] = hwc(luma)
    out["rgb.luma_resize_crop_6"] = hwc(resize_crop(luma, 6))
    path = os.path.join(HERE, "image_decode.safetensors")
    save_safetensors(path, out, {"pil": PIL.__version__, "torchvision": torchvision.__version__})
    print(f"wrote {path}: {len(out)} tensors, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
