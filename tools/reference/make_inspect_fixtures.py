#!/usr/bin/python3
"""Checkpoints for `res2net inspect` and the timm key layout, saved by PyTorch, with PyTorch's logits.

Each case is a small Res2Net (tiny widths, every stage present) with random weights, saved in one of the key layouts
and formats users bring:

  * mmpretrain: ``make_fixtures.py``'s ImageClassifier (``backbone.`` + ``head.fc.``), in ``{'meta', 'state_dict'}``;
  * timm: a second nn.Module built the way timm's ``ResNet`` + ``res2net.Bottle2neck`` are (``conv1`` a Sequential of
    conv/bn/act/conv/bn/act/conv for the deep stem, ``bn1``; ``downsample`` a Sequential of pool (Identity at
    stride 1) / conv / bn with avg_down, conv / bn without; classifier ``fc``; timm's registration order, so
    ``convs``/``bns`` come before ``conv3``), as timm's ``state_dict()`` or its train script's checkpoint
    ``{'epoch', 'arch', 'state_dict', 'version', 'metric'}``, or as the hub's ``model.safetensors``;
  * official Res2Net: the same names as timm (timm's Res2Net is a port of it; ``res2net_v1b`` is timm's deep stem +
    avg_down), in torch's legacy format as the 2019 release, or with DataParallel's ``module.`` prefix.

The timm-structured module gets the mmpretrain module's weights through ``load_state_dict(strict=True)`` and must
give the same logits (checked below), so its key names come from its own structure, not from a renaming. The two
compute one function except in one corner no released checkpoint has: when layer1.0 needs no shortcut conv
(stem_channels == 4 * base_channels), timm makes it a 'normal' block; the timm and official cases avoid it (asserted),
an mmpretrain case (b2111-deep) has it.

Weights: make_fixtures.randomize, then tame(): bn3 scaled so that 16 to 50 blocks do not blow the residual stream up,
and head.fc scaled to logits of RMS 4.

Writes Res2Net.Tests/Fixtures/inspect/:
  input.npy               [1, 3, 44, 36] N(0, 1), the input of every case
  CASE.LAYOUT.{pth,safetensors}  the checkpoint
  CASE.logits.npy         PyTorch's logits for input.npy, [1, num_classes]
  cases.json              per case: file, format, wrapper, layout, and the spec it was built from (the truth
                          `inspect` must recover)
  resnet-bottleneck.pth   a tiny ResNet (torchvision's Bottleneck names: conv2 instead of convs.N), not a Res2Net

About 1.8 MB in all. The output is byte-stable from run to run, except the legacy-format file, whose storage keys torch
writes as memory addresses.

Run with Debian's interpreter (torch 1.13): /usr/bin/python3 tools/reference/make_inspect_fixtures.py
The test suite never runs this; it reads the files.
"""

import argparse
import collections
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "Res2Net.Tests", "Checkpoints"))
import make_fixtures as mf  # noqa: E402  (mmpretrain's network, randomize, save_npy)
from make_layouts import safetensors_bytes  # noqa: E402

DEFAULT_OUT = os.path.join(REPO, "Res2Net.Tests", "Fixtures", "inspect")
SEED = 20261201
INPUT_SIZE = [44, 36]   # odd feature maps below (11x9, 6x5, 3x3, 2x2): avg_down's ceil_mode matters


def spec(name, base_width, scales, stem, avg_down, stem_channels, base_channels, num_classes, depth=None, blocks=None):
    s = collections.OrderedDict(name=name)
    if depth is not None:
        s["depth"] = depth
    else:
        s["blocks"] = blocks
    s.update(base_width=base_width, scales=scales, stem=stem, avg_down=avg_down, stem_channels=stem_channels,
             base_channels=base_channels, num_classes=num_classes, input_size=INPUT_SIZE)
    return s


# (spec, layout, how it is saved). Scales 2 to 8, depth 50/101/152 and explicit blocks, both stems, avg_down on and
# off, every layout and format.
CASES = [
    (spec("r50-plain-w1-s4", 1, 4, "plain", False, 4, 2, 5, depth=50), "mmpretrain", "zip-meta"),
    (spec("r101-v1b-w1-s2", 1, 2, "deep", True, 4, 2, 6, depth=101), "official", "legacy-bare"),
    (spec("r152-plain-w1-s3", 1, 3, "plain", False, 4, 2, 4, depth=152), "timm", "safetensors"),
    (spec("b1211-d-w1-s8", 1, 8, "deep", True, 6, 2, 7, blocks=[1, 2, 1, 1]), "timm", "zip-timm-train"),
    (spec("b2111-deep-w3-s5", 3, 5, "deep", False, 8, 2, 3, blocks=[2, 1, 1, 1]), "mmpretrain", "zip-meta"),
    (spec("b1121-avgdown-w2-s6", 2, 6, "plain", True, 10, 2, 2, blocks=[1, 1, 2, 1]), "official-module", "zip-bare"),
    (spec("b1111-w1-s7", 1, 7, "plain", False, 6, 3, 1, blocks=[1, 1, 1, 1]), "mmpretrain", "safetensors"),
]


def tame(model, x):
    """make_fixtures.randomize's weights, made fit for 16 to 50 blocks: each residual branch's last BN (bn3) scaled by
    0.2, so the residual stream does not grow block by block (up to 1e8 at depth 152 otherwise), then head.fc scaled so
    that the logits (less the bias) have an RMS of 4 for x, inside the 1-50 range the logits tolerance is stated for."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bn3.weight"):
                p.mul_(0.2)
        fc = model.head.fc
        rms = float(((model(x)["logits"] - fc.bias) ** 2).mean().sqrt())
        fc.weight.mul_(4.0 / rms)


def with_blocks(s):
    s = dict(s)
    s["_blocks"] = s["blocks"] if "blocks" in s else mf.DEPTH_BLOCKS[s["depth"]]
    return s


# --------------------------------------------------------------------------
# timm's structure and names (timm/models/resnet.py ResNet, timm/models/res2net.py Bottle2neck)
# --------------------------------------------------------------------------


class TimmBottle2neck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride, downsample, scale, base_width, base_channels):
        super().__init__()
        self.scale = scale
        self.is_first = stride > 1 or downsample is not None
        width = int(math.floor(planes * (base_width / base_channels)))   # timm: / 64.0 (its base_channels)
        self.width = width
        # Registration order as timm's: conv1 bn1 convs bns pool conv3 bn3 relu downsample.
        self.conv1 = nn.Conv2d(inplanes, width * scale, 1, bias=False)
        self.bn1 = mf.bn(width * scale)
        self.convs = nn.ModuleList([nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False) for _ in range(scale - 1)])
        self.bns = nn.ModuleList([mf.bn(width) for _ in range(scale - 1)])
        if self.is_first:
            self.pool = nn.AvgPool2d(kernel_size=3, stride=stride, padding=1)
        self.conv3 = nn.Conv2d(width * scale, planes * self.expansion, 1, bias=False)
        self.bn3 = mf.bn(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x):
        shortcut = x
        out = self.relu(self.bn1(self.conv1(x)))
        spx = torch.split(out, self.width, 1)
        spo = []
        sp = spx[0]
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            sp = spx[i] if i == 0 or self.is_first else sp + spx[i]
            sp = self.relu(bn(conv(sp)))
            spo.append(sp)
        spo.append(self.pool(spx[-1]) if self.is_first else spx[-1])
        out = self.bn3(self.conv3(torch.cat(spo, 1)))
        if self.downsample is not None:
            shortcut = self.downsample(x)
        return self.relu(out + shortcut)


class TimmRes2Net(nn.Module):
    def __init__(self, s):
        super().__init__()
        sc = s["stem_channels"]
        if s["stem"] == "deep":
            half = sc // 2
            self.conv1 = nn.Sequential(
                nn.Conv2d(3, half, 3, stride=2, padding=1, bias=False), mf.bn(half), nn.ReLU(),
                nn.Conv2d(half, half, 3, stride=1, padding=1, bias=False), mf.bn(half), nn.ReLU(),
                nn.Conv2d(half, sc, 3, stride=1, padding=1, bias=False))
        else:
            self.conv1 = nn.Conv2d(3, sc, 7, stride=2, padding=3, bias=False)
        self.bn1 = mf.bn(sc)
        self.act1 = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inplanes = sc
        for i, n in enumerate(s["_blocks"]):
            planes = s["base_channels"] << i
            stride = 1 if i == 0 else 2
            downsample = None
            if stride != 1 or inplanes != planes * 4:
                if s["avg_down"]:
                    pool = nn.Identity() if stride == 1 else nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False)
                    downsample = nn.Sequential(pool, nn.Conv2d(inplanes, planes * 4, 1, bias=False), mf.bn(planes * 4))
                else:
                    downsample = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride=stride, bias=False), mf.bn(planes * 4))
            blocks = []
            for b in range(n):
                blocks.append(TimmBottle2neck(inplanes, planes, stride if b == 0 else 1, downsample if b == 0 else None,
                                              s["scales"], s["base_width"], s["base_channels"]))
                inplanes = planes * 4
            self.add_module("layer%d" % (i + 1), nn.Sequential(*blocks))
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, s["num_classes"])

    def forward(self, x):
        x = self.maxpool(self.act1(self.bn1(self.conv1(x))))
        for i in range(4):
            x = getattr(self, "layer%d" % (i + 1))(x)
        return self.fc(self.global_pool(x).flatten(1))


DEEP_STEM = [("stem.0.conv.", "conv1.0."), ("stem.0.bn.", "conv1.1."), ("stem.1.conv.", "conv1.3."),
             ("stem.1.bn.", "conv1.4."), ("stem.2.conv.", "conv1.6."), ("stem.2.bn.", "bn1.")]


def timm_weights(mm_state_dict):
    """The mmpretrain module's tensors under the names the timm module's parameters have, to load them strictly."""
    out = {}
    for key, value in mm_state_dict.items():
        k = key[len("head."):] if key.startswith("head.") else key[len("backbone."):]
        for a, b in DEEP_STEM:
            if k.startswith(a):
                k = b + k[len(a):]
        out[k] = value
    return out


# --------------------------------------------------------------------------
# Not a Res2Net: torchvision's ResNet Bottleneck names
# --------------------------------------------------------------------------


class ResNetBottleneck(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = mf.bn(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = mf.bn(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = mf.bn(planes * 4)
        self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride=stride, bias=False), mf.bn(planes * 4))


class TinyResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, stride=2, padding=3, bias=False)
        self.bn1 = mf.bn(8)
        inplanes = 8
        for i in range(4):
            self.add_module("layer%d" % (i + 1), nn.Sequential(ResNetBottleneck(inplanes, 2 << i, 1 if i == 0 else 2)))
            inplanes = 8 << i
        self.fc = nn.Linear(inplanes, 3)


# --------------------------------------------------------------------------


def save(path, layout, how, mm_sd, timm_sd, s):
    if layout == "mmpretrain":
        sd = mm_sd
    elif layout == "official-module":
        sd = collections.OrderedDict(("module." + k, v) for k, v in timm_sd.items())
    else:
        sd = timm_sd
    if how == "zip-meta":
        torch.save({"meta": mf.meta_dict(s), "state_dict": sd}, path)
        return "state_dict"
    if how == "zip-bare":
        torch.save(sd, path)
        return "none"
    if how == "zip-timm-train":
        arch = "res2net50d" if s["stem"] == "deep" and s["avg_down"] else "res2net50_26w_4s"
        torch.save({"epoch": 11, "arch": arch, "state_dict": sd, "version": 2, "metric": 0.25}, path)
        return "state_dict"
    if how == "legacy-bare":
        torch.save(sd, path, _use_new_zipfile_serialization=False)
        return "none"
    if how == "safetensors":
        with open(path, "wb") as f:
            f.write(safetensors_bytes(sd, {"format": "pt"}))
        return "none"
    raise ValueError(how)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="fixture directory (default: Res2Net.Tests/Fixtures/inspect)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    print("torch %s, numpy %s" % (torch.__version__, np.__version__))

    torch.manual_seed(SEED)
    x = torch.randn(1, 3, *INPUT_SIZE)
    mf.save_npy(os.path.join(out, "input.npy"), x.numpy())

    listed = []
    for s, layout, how in CASES:
        s = with_blocks(s)
        torch.manual_seed(SEED)
        mm = mf.build(s)
        mf.randomize(mm)
        tame(mm, x)
        mm_sd = collections.OrderedDict((k, v.detach().clone()) for k, v in mm.state_dict().items())
        timm = None
        if layout != "mmpretrain":
            # timm makes layer1.0 a 'normal' block (no pool, hierarchical sums) when it has no shortcut conv, which
            # happens only when stem_channels == 4 * base_channels; mmpretrain and the official code never do.
            assert s["stem_channels"] != 4 * s["base_channels"], (s["name"], "timm and mmpretrain differ in layer1.0")
            timm = TimmRes2Net(s)
            timm.load_state_dict(timm_weights(mm_sd), strict=True)
            timm.eval()
            with torch.no_grad():
                logits, other = mm(x)["logits"], timm(x)
            # Two module structures, one function: the timm-named weights are the same network.
            assert torch.allclose(logits, other, rtol=0, atol=1e-5), (s["name"], float((logits - other).abs().max()))
            timm_sd = collections.OrderedDict((k, v.detach().clone()) for k, v in timm.state_dict().items())

        ext = ".safetensors" if how == "safetensors" else ".pth"
        file = s["name"] + "." + layout + ext
        wrapper = save(os.path.join(out, file), layout, how, mm_sd, timm and timm_sd, s)
        model = mm if layout == "mmpretrain" else timm
        with torch.no_grad():
            y = model(x)
            y = y["logits"] if isinstance(y, dict) else y
        mf.save_npy(os.path.join(out, s["name"] + ".logits.npy"), y.numpy())
        truth = collections.OrderedDict((k, v) for k, v in s.items() if not k.startswith("_"))
        listed.append(collections.OrderedDict([
            ("file", file), ("format", {"safetensors": "safetensors", "legacy-bare": "legacy"}.get(how, "zip")),
            ("wrapper", wrapper), ("layout", layout), ("spec", truth)]))
        print("  %-44s %7d bytes, logits %s" % (file, os.path.getsize(os.path.join(out, file)), np.round(y.numpy()[0], 2)))

    torch.manual_seed(SEED)
    resnet = TinyResNet()
    mf.randomize(resnet)
    torch.save(resnet.state_dict(), os.path.join(out, "resnet-bottleneck.pth"))

    with open(os.path.join(out, "cases.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump({"input": "input.npy", "cases": listed}, f, indent=2)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    print("%d files, %d bytes in %s" % (len(os.listdir(out)), total, out))


if __name__ == "__main__":
    sys.exit(main())
