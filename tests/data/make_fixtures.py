#!/usr/bin/env python3
"""Golden fixtures for the layers tests, made with PyTorch and torchvision (Debian's
python3-torch and python3-torchvision; needed only to regenerate or verify, not to build or test).

    python3 tests/data/make_fixtures.py              # writes tests/data/*.safetensors
    python3 tests/data/make_fixtures.py verify CKPT OUT.npy FIXTURE
        # loads our checkpoint CKPT into the matching torchvision-style ResNet with strict=True and
        # checks that it reproduces OUT.npy (our eval-mode output on the fixture's input)

For each model: NAME.weights.safetensors is the initial state dict (torchvision names, OIHW
filters), and NAME.expected.safetensors holds the NCHW input, the loss weight w, and (computed in
float64 from them, stored as fp32) the training-mode output, the gradients of sum(output * w) for the input ("grad.input") and every parameter
("grad.<name>"), and the buffers after that one training step ("after.<name>"). The config is in
the metadata. Debian has no safetensors module, so the format (8-byte header length, JSON header,
raw little-endian bytes) is written and read here directly.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.uint8: "U8"}
NUMPY = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "U8": np.uint8}


def save_safetensors(path, tensors, metadata):
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def load_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, h in header.items():
        begin, end = h["data_offsets"]
        raw = blob[8 + n + begin:8 + n + end]
        array = np.frombuffer(raw, dtype=NUMPY[h["dtype"]]).reshape(h["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors, metadata


class NarrowResNet(ResNet):
    """torchvision's ResNet with simclr.cpp's options: base width, small stem, input channels,
    no fc. Built from torchvision's own blocks and _make_layer, so names and strides match."""

    def __init__(self, depth, base_width, small_stem, in_channels):
        block, layers = {18: (BasicBlock, [2, 2, 2, 2]), 34: (BasicBlock, [3, 4, 6, 3]),
                         50: (Bottleneck, [3, 4, 6, 3])}[depth]
        super().__init__(block, layers)
        w = base_width
        self.inplanes = w
        if small_stem:
            self.conv1 = torch.nn.Conv2d(in_channels, w, 3, 1, 1, bias=False)
            self.maxpool = torch.nn.Identity()
        else:
            self.conv1 = torch.nn.Conv2d(in_channels, w, 7, 2, 3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(w)
        self.layer1 = self._make_layer(block, w, layers[0])
        self.layer2 = self._make_layer(block, 2 * w, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 4 * w, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 8 * w, layers[3], stride=2)
        del self.fc
        for m in self.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, torch.nn.BatchNorm2d):
                # Non-trivial affine parameters and statistics, so the fixture tests them.
                torch.nn.init.uniform_(m.weight, 0.5, 1.5)
                torch.nn.init.uniform_(m.bias, -0.2, 0.2)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.8, 1.2)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)


CONFIGS = {
    "resnet18_narrow": dict(depth=18, base_width=8, small_stem=True, in_channels=1, batch=4,
                            size=16),
    # 64 px so that layer4 is still 2x2: BN over a handful of values per channel is so badly
    # conditioned that fp32 itself (PyTorch's too) drifts by ~1e-3 from the exact result.
    "resnet50_narrow": dict(depth=50, base_width=4, small_stem=False, in_channels=3, batch=4,
                            size=64),
}


def make(name, cfg):
    torch.manual_seed(20261130)
    model = NarrowResNet(cfg["depth"], cfg["base_width"], cfg["small_stem"], cfg["in_channels"])
    save_safetensors(os.path.join(HERE, name + ".weights.safetensors"), model.state_dict(),
                     {"config": json.dumps(cfg)})
    x = torch.randn(cfg["batch"], cfg["in_channels"], cfg["size"], cfg["size"])
    # The reference is computed in float64 from these fp32 weights and inputs, i.e. the exact
    # answer for them, so a test's tolerance measures its own rounding, not PyTorch's fp32 one.
    model.train().double()
    x64 = x.double().requires_grad_(True)
    out = model(x64)
    w = torch.randn(out.shape)
    (out * w.double()).sum().backward()
    expected = {"input": x, "loss_weight": w, "output": out.detach(), "grad.input": x64.grad}
    for pname, p in model.named_parameters():
        expected["grad." + pname] = p.grad
    for bname, b in model.named_buffers():
        expected["after." + bname] = b
    expected = {k: v.float() if v.is_floating_point() else v for k, v in expected.items()}
    save_safetensors(os.path.join(HERE, name + ".expected.safetensors"), expected,
                     {"config": json.dumps(cfg)})
    print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, output "
          f"{tuple(out.shape)}")


def verify(checkpoint, output_npy, fixture):
    """Our checkpoint into the torchvision-style model (strict), then our output reproduced."""
    expected, meta = load_safetensors(os.path.join(HERE, fixture + ".expected.safetensors"))
    cfg = json.loads(meta["config"])
    state, ckpt_meta = load_safetensors(checkpoint)
    for extra in json.loads(ckpt_meta.get("simclr.extra_tensors", "[]")):
        state.pop(extra)
    model = NarrowResNet(cfg["depth"], cfg["base_width"], cfg["small_stem"], cfg["in_channels"])
    model.load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        ours = torch.from_numpy(np.load(output_npy))
        theirs = model(expected["input"])
    error = ((ours - theirs).abs().max() / theirs.abs().max()).item()
    print(f"PyTorch loaded {checkpoint} with strict=True; relative difference of the outputs: "
          f"{error:.2e}")
    return 0 if error < 1e-4 else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "verify":
        sys.exit(verify(sys.argv[2], sys.argv[3], sys.argv[4]))
    for name, cfg in CONFIGS.items():
        make(name, cfg)
