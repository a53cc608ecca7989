#!/usr/bin/env python3
"""Writes small PyTorch networks as ONNX files, exported by torch.onnx.export, for the ONNX importer's tests.

The networks are seeded and random (not trained); every BatchNorm gets random running statistics and affine
parameters so that folding it is not the identity. Each network is exported at several opsets, so the tests see
what PyTorch's exporter really writes (Shape/Gather/Concat chains for x.view(x.size(0), -1), Pad with inputs
or attributes, Clip with inputs or attributes, Constant nodes, Flatten, Dropout in eval mode, a final Softmax).
The tests compare the import with ONNX Runtime; this script also prints PyTorch's own logits for a fixed input
next to ONNX Runtime's when onnxruntime is installed, as a check of the export itself.

    /usr/bin/python3 scripts/crosscheck/export_torch_onnx.py OUT_DIR

Needs torch (Debian: python3-torch) and, for the check, onnxruntime. Not part of the product or of npm test.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


def randomize_batch_norms(model: nn.Module, gen: torch.Generator) -> None:
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.rand(c, generator=gen) * 0.4 - 0.2)
            m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=gen) + 0.5)
            m.bias.data.copy_(torch.rand(c, generator=gen) - 0.5)


class ResidualNet(nn.Module):
    """Conv-BN-ReLU stem, a residual block, depthwise and grouped convs, ReLU6, padded pools, global pool."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.block = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8))
        self.depthwise = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=8), nn.BatchNorm2d(16), nn.ReLU6())
        self.grouped = nn.Conv2d(16, 12, 3, padding=(1, 2), dilation=(1, 2), groups=4)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.avg = nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=True)
        self.fc = nn.Linear(12, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = F.relu(x + self.block(x))
        x = self.pool(self.grouped(self.depthwise(x)))
        x = F.adaptive_avg_pool2d(self.avg(x), 1)
        return self.fc(torch.flatten(x, 1))


class ChainNet(nn.Module):
    """A VGG-like chain: conv, relu, max-pool, then x.view(x.size(0), -1), dropout and linear layers."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.conv2 = nn.Conv2d(6, 8, 3)
        self.drop = nn.Dropout(0.5)
        self.fc1 = nn.Linear(8 * 2 * 2, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(x.size(0), -1)
        return self.fc2(self.drop(F.relu(self.fc1(x))))


class BranchNet(nn.Module):
    """Normalization inside the network, F.pad with a constant, concatenation, smooth activations, a Softmax."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.49, 0.48, 0.45]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.25, 0.24, 0.26]).view(1, 3, 1, 1))
        self.a = nn.Conv2d(3, 4, 3)
        self.b = nn.Conv2d(3, 4, 1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.fc = nn.Linear(8 * 6 * 6, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / self.std
        a = F.leaky_relu(self.a(F.pad(x, (1, 1, 1, 1), value=0.5)), 0.1)
        b = torch.tanh(self.b(x))
        x = self.pool(torch.sigmoid(self.bn(torch.cat([a, b], dim=1))))
        return F.softmax(self.fc(torch.flatten(x, 1)), dim=1)


NETWORKS = {"residual": ResidualNet, "chain": ChainNet, "branch": BranchNet}
OPSETS = (9, 13, 17)
IMAGE = (3, 12, 12)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    try:
        import onnxruntime as ort  # noqa: F401  (optional: the export check)
    except ImportError:
        ort = None
    for i, (name, cls) in enumerate(NETWORKS.items()):
        gen = torch.Generator().manual_seed(1000 + i)
        torch.manual_seed(1000 + i)
        model = cls()
        randomize_batch_norms(model, gen)
        model.eval()
        x = torch.rand((1, *IMAGE), generator=gen)
        for opset in OPSETS:
            path = os.path.join(out, f"torch_{name}_opset{opset}.onnx")
            torch.onnx.export(model, x, path, opset_version=opset, input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, do_constant_folding=False)
            line = f"{path}: {os.path.getsize(path)} bytes"
            if ort is not None:
                with torch.no_grad():
                    ref = model(x).numpy()
                got = ort.InferenceSession(path).run(None, {"x": x.numpy()})[0]
                line += f", max |torch - onnxruntime| {abs(ref - got).max():.2e}"
            print(line)


if __name__ == "__main__":
    main()
