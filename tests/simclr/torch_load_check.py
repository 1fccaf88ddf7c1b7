#!/usr/bin/python3
"""Checks that PyTorch loads simclr_train's encoder.safetensors strictly into the matching
torchvision-style ResNet and reproduces our embeddings of the first Fashion-MNIST test images.

usage: torch_load_check.py ENCODER.safetensors EMBEDDINGS_DIR
Exits 77 (ctest: skipped) when NumPy, PyTorch or torchvision is not installed."""
import json, struct, sys, gzip

try:
    import numpy as np
    import torch
    import torch.nn as nn
    from torchvision.models.resnet import ResNet, BasicBlock, Bottleneck
except ImportError as e:
    print(f"SKIPPED: PyTorch/torchvision not installed ({e})")
    sys.exit(77)


def read_safetensors(path):
    """A minimal safetensors reader (the format is 8 bytes of header size, a JSON header, data)."""
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    kinds = {"F32": np.float32, "I64": np.int64, "F64": np.float64}
    tensors = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        a = np.frombuffer(raw[8 + n + begin:8 + n + end], dtype=kinds[t["dtype"]]).reshape(t["shape"])
        tensors[name] = torch.from_numpy(a.copy())
    return tensors, meta


def make_resnet(model):
    depth, width = model["depth"], model["width"]
    block, layers = {18: (BasicBlock, [2, 2, 2, 2]), 34: (BasicBlock, [3, 4, 6, 3]),
                     50: (Bottleneck, [3, 4, 6, 3])}[depth]
    net = ResNet(block, layers)
    net.inplanes = width
    in_ch = 1
    if model["small_stem"]:
        net.conv1 = nn.Conv2d(in_ch, width, 3, 1, 1, bias=False)
        net.maxpool = nn.Identity()
    else:
        net.conv1 = nn.Conv2d(in_ch, width, 7, 2, 3, bias=False)
    net.bn1 = nn.BatchNorm2d(width)
    net.layer1 = net._make_layer(block, width, layers[0])
    net.layer2 = net._make_layer(block, 2 * width, layers[1], stride=2)
    net.layer3 = net._make_layer(block, 4 * width, layers[2], stride=2)
    net.layer4 = net._make_layer(block, 8 * width, layers[3], stride=2)
    net.fc = nn.Identity()
    return net


def main():
    encoder_path, emb_dir = sys.argv[1], sys.argv[2]
    state, meta = read_safetensors(encoder_path)
    config = json.loads(meta["simclr.config"])
    net = make_resnet(config["model"])
    net.load_state_dict(state, strict=True)
    net.eval()
    path = config["data"]["path"] + "/t10k-images-idx3-ubyte.gz"
    raw = gzip.open(path).read()
    images = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)[:64]
    mean, std = config["augment"]["mean"][0], config["augment"]["std"][0]
    x = (torch.tensor(images).float().unsqueeze(1) / 255 - mean) / std
    with torch.no_grad():
        ours = torch.from_numpy(np.load(emb_dir + "/test_embeddings.npy")[:64])
        theirs = net(x)
    err = (ours - theirs).abs().max().item()
    scale = theirs.abs().max().item()
    print(f"strict load OK; max |ours - torch| over 64 test embeddings: {err:.3e} (max |value| {scale:.3e})")
    sys.exit(0 if err <= 1e-4 * max(1.0, scale) else 1)


main()
