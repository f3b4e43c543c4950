#!/usr/bin/python3
"""Reference outputs for the Res2Net compiler, produced by PyTorch itself.

Builds an nn.Module that reproduces mmpretrain's Res2Net classifier
(backbone ``Res2Net`` + ``GlobalAveragePooling`` neck + ``LinearClsHead``)
with identical state-dict key names, then writes:

  * fixtures for the tiny test networks (Res2Net.Tests/Networks/*.json):
    random weights from torch's RNG, mmpretrain-style .pth checkpoints,
    the same weights as .npz, an input batch and the PyTorch activations;
  * fixtures for the seed networks (networks/*.json) using the
    deterministic "seeded" weights of docs/seeded-weights.md: logits and
    samples of every stage output, plus test vectors of the rule itself;
  * params-flops.json: parameter and FLOP counts (mmcv counter convention).

With ``--checkpoints DIR`` it also writes full-size seeded checkpoints, the
seeded input and the PyTorch logits of the seed networks to DIR.

Run with Debian's interpreter (python3-torch 1.13):
    /usr/bin/python3 tools/reference/make_fixtures.py
"""

import argparse
import collections
import glob
import json
import math
import os
import sys
import time
import zipfile

import numpy as np
import torch
import torch.nn as nn

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SEED_SPECS = os.path.join(REPO, "networks")
TINY_SPECS = os.path.join(REPO, "Res2Net.Tests", "Networks")
DEFAULT_OUT = os.path.join(REPO, "Res2Net.Tests", "Fixtures")

BN_EPS = 1e-5
DEPTH_BLOCKS = {50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}

# Expected values for the seed networks (params: conv/bn affine/fc only).
EXPECTED = {
    "res2net50-w14-s8_3rdparty_8xb32_in1k": (25_059_816, 4_218_325_520),
    "res2net50-w26-s8_3rdparty_8xb32_in1k": (48_403_776, 8_389_489_328),
    "res2net101-w26-s4_3rdparty_8xb32_in1k": (45_206_688, 8_122_074_768),
}

TINY_TORCH_SEED = 20240601
SAMPLE_COUNT = 4096

# --------------------------------------------------------------------------
# Network specs
# --------------------------------------------------------------------------


def load_spec(path):
    with open(path, "r", encoding="utf-8") as f:
        spec = json.load(f)
    # The generator's defaults for the optional fields (README, "Networks are specs").
    for key, default in (("stem", "plain"), ("avg_down", False), ("stem_channels", 64), ("base_channels", 64)):
        spec.setdefault(key, default)
    if "blocks" in spec:
        blocks = list(spec["blocks"])
    else:
        blocks = DEPTH_BLOCKS[spec["depth"]]
    assert len(blocks) == 4
    assert spec["stem"] in ("plain", "deep")
    spec["_blocks"] = blocks
    spec["_path"] = os.path.relpath(path, REPO)
    return spec


# --------------------------------------------------------------------------
# The network (module/attribute names mirror mmpretrain so that
# state_dict() keys are the mmpretrain checkpoint keys)
# --------------------------------------------------------------------------


def bn(c):
    return nn.BatchNorm2d(c, eps=BN_EPS)


class ConvBnAct(nn.Module):
    """Stand-in for mmcv's ConvModule(conv, bn, ReLU): keys .conv / .bn."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn = bn(cout)
        self.activate = nn.ReLU()

    def forward(self, x):
        return self.activate(self.bn(self.conv(x)))


class Bottle2neck(nn.Module):
    expansion = 4

    def __init__(self, in_c, out_c, stride, stage_type, scales, base_width,
                 base_channels, downsample):
        super().__init__()
        assert scales > 1
        mid = out_c // self.expansion
        # Same expression (and float rounding) as mmpretrain.
        width = int(math.floor(mid * (base_width / base_channels)))
        self.width = width
        self.scales = scales
        self.stage_type = stage_type
        # Registration order follows mmpretrain (ResNet Bottleneck registers
        # conv1, bn1, conv3, bn3, relu, downsample; Bottle2neck then adds
        # pool, convs, bns), so state_dict() order matches real checkpoints.
        self.conv1 = nn.Conv2d(in_c, width * scales, 1, bias=False)
        self.bn1 = bn(width * scales)
        self.conv3 = nn.Conv2d(width * scales, out_c, 1, bias=False)
        self.bn3 = bn(out_c)
        self.relu = nn.ReLU()
        self.downsample = downsample
        if stage_type == "stage":
            # count_include_pad=True (default), also when stride == 1.
            self.pool = nn.AvgPool2d(kernel_size=3, stride=stride, padding=1)
        self.convs = nn.ModuleList(
            [nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
             for _ in range(scales - 1)])
        self.bns = nn.ModuleList([bn(width) for _ in range(scales - 1)])

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        spx = torch.split(out, self.width, 1)
        sp = self.relu(self.bns[0](self.convs[0](spx[0].contiguous())))
        out = sp
        for i in range(1, self.scales - 1):
            if self.stage_type == "stage":
                sp = spx[i]
            else:
                sp = sp + spx[i]
            sp = self.relu(self.bns[i](self.convs[i](sp.contiguous())))
            out = torch.cat((out, sp), 1)
        if self.stage_type == "normal":
            out = torch.cat((out, spx[self.scales - 1]), 1)
        else:
            out = torch.cat((out, self.pool(spx[self.scales - 1])), 1)
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out = out + identity
        return self.relu(out)


def make_layer(in_c, out_c, num_blocks, stride, spec):
    downsample = None
    if stride != 1 or in_c != out_c:
        if spec["avg_down"]:
            # mmpretrain's Res2Layer: the AvgPool is present whenever
            # avg_down is set, even for stride 1 (then it is an identity).
            downsample = nn.Sequential(
                nn.AvgPool2d(kernel_size=stride, stride=stride, ceil_mode=True,
                             count_include_pad=False),
                nn.Conv2d(in_c, out_c, 1, stride=1, bias=False),
                bn(out_c))
        else:
            downsample = nn.Sequential(
                nn.Conv2d(in_c, out_c, 1, stride=stride, bias=False),
                bn(out_c))
    kw = dict(scales=spec["scales"], base_width=spec["base_width"],
              base_channels=spec["base_channels"])
    blocks = [Bottle2neck(in_c, out_c, stride, "stage", downsample=downsample, **kw)]
    for _ in range(1, num_blocks):
        blocks.append(Bottle2neck(out_c, out_c, 1, "normal", downsample=None, **kw))
    return nn.Sequential(*blocks)


class Res2NetBackbone(nn.Module):
    def __init__(self, spec):
        super().__init__()
        sc = spec["stem_channels"]
        self.deep = spec["stem"] == "deep"
        if self.deep:
            self.stem = nn.Sequential(
                ConvBnAct(3, sc // 2, 2),
                ConvBnAct(sc // 2, sc // 2, 1),
                ConvBnAct(sc // 2, sc, 1))
        else:
            self.conv1 = nn.Conv2d(3, sc, 7, stride=2, padding=3, bias=False)
            self.bn1 = bn(sc)
            self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        in_c = sc
        out_c = spec["base_channels"] * Bottle2neck.expansion
        for i, n in enumerate(spec["_blocks"]):
            stride = 1 if i == 0 else 2
            self.add_module("layer%d" % (i + 1), make_layer(in_c, out_c, n, stride, spec))
            in_c = out_c
            out_c *= 2
        self.out_channels = in_c

    def forward(self, x):
        if self.deep:
            x = self.stem(x)
        else:
            x = self.relu(self.bn1(self.conv1(x)))
        x = self.maxpool(x)
        outs = {"stem": x}
        for i in range(4):
            x = getattr(self, "layer%d" % (i + 1))(x)
            outs["stage%d" % (i + 1)] = x
        return outs


class LinearClsHead(nn.Module):
    def __init__(self, cin, n):
        super().__init__()
        self.fc = nn.Linear(cin, n)


class ImageClassifier(nn.Module):
    def __init__(self, spec):
        super().__init__()
        self.backbone = Res2NetBackbone(spec)
        self.neck = nn.AdaptiveAvgPool2d((1, 1))  # GlobalAveragePooling
        self.head = LinearClsHead(self.backbone.out_channels, spec["num_classes"])

    def forward(self, x):
        outs = self.backbone(x)
        feat = self.neck(outs["stage4"]).flatten(1)
        outs["logits"] = self.head.fc(feat)
        return outs


def build(spec):
    m = ImageClassifier(spec)
    m.eval()
    return m


# --------------------------------------------------------------------------
# Parameter and FLOP counting (mmcv get_model_complexity_info convention:
# one FLOP = one multiply-accumulate, counted per module call)
# --------------------------------------------------------------------------


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def count_flops(model, input_size):
    total = [0]

    def hook(mod, inp, out):
        x = inp[0]
        if isinstance(mod, nn.Conv2d):
            kh, kw = mod.kernel_size
            f = out.numel() * (mod.in_channels // mod.groups) * kh * kw
            if mod.bias is not None:
                f += out.numel()
        elif isinstance(mod, nn.BatchNorm2d):
            f = x.numel() * (2 if mod.affine else 1)
        elif isinstance(mod, nn.ReLU):
            f = out.numel()
        elif isinstance(mod, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)):
            f = x.numel()
        elif isinstance(mod, nn.Linear):
            f = x.numel() * mod.out_features
        else:
            return
        total[0] += int(f)

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d,
                                 nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.Linear))]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, *input_size))
    finally:
        for h in handles:
            h.remove()
    return total[0]


# --------------------------------------------------------------------------
# The seeded weight rule (docs/seeded-weights.md)
# --------------------------------------------------------------------------

M32 = np.uint64(0xFFFFFFFF)


def fnv1a32(key):
    h = 0x811C9DC5
    for b in key.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def seeded_hash(key, n):
    """fmix32((seed + i * 0x9E3779B9) mod 2^32) for i in [0, n), as uint32."""
    s = np.uint64(fnv1a32(key))
    x = np.arange(n, dtype=np.uint64)
    x = (s + x * np.uint64(0x9E3779B9)) & M32
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x85EBCA6B)) & M32
    x ^= x >> np.uint64(13)
    x = (x * np.uint64(0xC2B2AE35)) & M32
    x ^= x >> np.uint64(16)
    return x.astype(np.uint32)


# BN weight range [BN_W_LO, BN_W_LO + BN_W_SPAN). Tuned from the initial
# (0.5, 0.5), which made res2net50-w14-s8's logits too small (std 0.35);
# (0.625, 0.5) keeps every seed network's logit std within [0.5, 50]
# (both numbers are exact in float32).
BN_W_LO = 0.625
BN_W_SPAN = 0.5


def seeded_kind(key, shape):
    """(kind, lo, span) as float32; kind 'count' means int64 zero."""
    f32 = np.float32
    if key == "input":
        return "input", f32(-2.0), f32(4.0)
    if key.endswith(".num_batches_tracked"):
        return "count", None, None
    if key.endswith(".weight") and len(shape) in (2, 4):
        fan_in = int(np.prod(shape[1:]))
        a = f32(math.sqrt(3.0 / fan_in))
        return ("conv" if len(shape) == 4 else "linear"), f32(-a), f32(2.0) * a
    if key.endswith(".weight") and len(shape) == 1:
        return "bn.weight", f32(BN_W_LO), f32(BN_W_SPAN)
    if key.endswith(".bias") or key.endswith(".running_mean"):
        return "bias", f32(-0.1), f32(0.2)
    if key.endswith(".running_var"):
        return "bn.running_var", f32(0.5), f32(1.0)
    raise ValueError("no seeded rule for %s %s" % (key, shape))


def seeded_values(key, shape):
    kind, lo, span = seeded_kind(key, shape)
    n = int(np.prod(shape)) if len(shape) else 1
    if kind == "count":
        return np.zeros(shape, dtype=np.int64)
    x = seeded_hash(key, n)
    u = (x >> np.uint32(8)).astype(np.float32) * np.float32(2.0 ** -24)
    t = (span * u).astype(np.float32)
    v = (lo + t).astype(np.float32)
    assert v.dtype == np.float32
    return v.reshape(shape)


def seeded_state_dict(model):
    sd = collections.OrderedDict()
    for k, v in model.state_dict().items():
        sd[k] = torch.from_numpy(np.array(seeded_values(k, tuple(v.shape)), order="C"))
        assert tuple(sd[k].shape) == tuple(v.shape), k
        assert sd[k].dtype == v.dtype, k
    return sd


def f32_bits(v):
    return "0x%08X" % int(np.array(v, dtype=np.float32).view(np.uint32))


def rule_vectors():
    keys = [
        ("backbone.conv1.weight", [64, 3, 7, 7]),
        ("backbone.bn1.weight", [64]),
        ("backbone.bn1.bias", [64]),
        ("backbone.bn1.running_mean", [64]),
        ("backbone.bn1.running_var", [64]),
        ("head.fc.weight", [1000, 2048]),
        ("head.fc.bias", [1000]),
        ("input", [1, 3, 224, 224]),
    ]
    vecs = []
    for key, shape in keys:
        kind, lo, span = seeded_kind(key, shape)
        v = seeded_values(key, tuple(shape)).reshape(-1)
        h = seeded_hash(key, 16)
        vecs.append(collections.OrderedDict([
            ("key", key),
            ("shape", shape),
            ("kind", kind),
            ("seed", "0x%08X" % fnv1a32(key)),
            ("lo", float(lo)), ("lo_bits", f32_bits(lo)),
            ("span", float(span)), ("span_bits", f32_bits(span)),
            ("hash", ["0x%08X" % int(a) for a in h]),
            ("bits", ["0x%08X" % int(a) for a in v[:16].view(np.uint32)]),
            ("values", [float(a) for a in v[:16]]),
            ("sum_float64", float(v.astype(np.float64).sum())),
        ]))
    return collections.OrderedDict([
        ("description", "Test vectors of the seeded weight rule, see docs/seeded-weights.md. "
                        "hash = fmix32 output for i = 0..15; bits/values = the float32 "
                        "elements 0..15 (row-major); sum_float64 = sum of all elements in float64."),
        ("bn_weight_lo", BN_W_LO), ("bn_weight_span", BN_W_SPAN),
        ("vectors", vecs),
    ])


# --------------------------------------------------------------------------
# Tiny networks: random weights from torch's RNG
# --------------------------------------------------------------------------


def randomize(model):
    with torch.no_grad():
        for name, mod in model.named_modules():
            if isinstance(mod, nn.Conv2d):
                nn.init.kaiming_normal_(mod.weight, mode="fan_in", nonlinearity="relu")
            elif isinstance(mod, nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.normal_(0.0, 0.1)
                mod.running_mean.normal_(0.0, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
                mod.num_batches_tracked.fill_(1234)
            elif isinstance(mod, nn.Linear):
                mod.weight.normal_(0.0, 1.0 / math.sqrt(mod.in_features))
                mod.bias.normal_(0.0, 0.1)


def meta_dict(spec):
    n = spec["num_classes"]
    return {
        "mmpretrain_version": "1.0.0",
        "epoch": 100,
        "iter": 125100,
        "time": "Mon Sep 27 12:34:56 2021",
        "seed": None,
        "lr": 0.1,
        "experiment_name": spec["name"],
        "CLASSES": tuple("class_%d" % i for i in range(n)),
        "dataset_meta": {"classes": ["class_%d" % i for i in range(n)],
                         "num_classes": n, "mean": (123.675, 116.28, 103.53)},
        "hook_msgs": {"last_ckpt": "work_dirs/%s/epoch_100.pth" % spec["name"],
                      "best_score": 0.7712, "best_ckpt": None},
        "env_info": "sys.platform: linux\nPython: 3.8.13\nCUDA available: True",
        "config": "model = dict(type='ImageClassifier', backbone=dict(type='Res2Net'))\n",
        "shapes": [(1, 2), (3, 4.5, "x"), True, False],
    }


def np_state_dict(sd):
    return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in sd.items()}


def save_npz(path, arrays):
    """Same layout as np.savez (uncompressed zip of KEY.npy members), but with
    a fixed member timestamp so that re-running the script is byte-stable."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, arr in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.array(arr, order="C"), allow_pickle=False)


def save_npy(path, arr):
    arr = np.array(arr, dtype=np.float32, order="C")
    np.save(path, arr)


def run_model(model, x):
    with torch.no_grad():
        return model(x)


def make_tiny(spec, out_dir):
    name = spec["name"]
    torch.manual_seed(TINY_TORCH_SEED)
    model = build(spec)
    randomize(model)
    sd = model.state_dict()
    sd = collections.OrderedDict((k, v.detach().clone()) for k, v in sd.items())

    torch.save({"meta": meta_dict(spec), "state_dict": sd}, os.path.join(out_dir, name + ".pth"))
    if spec["stem"] == "plain":
        torch.save(sd, os.path.join(out_dir, name + ".bare.pth"))
        half = collections.OrderedDict(
            (k, v.half() if v.is_floating_point() else v) for k, v in sd.items())
        torch.save(half, os.path.join(out_dir, name + ".fp16.pth"))
    save_npz(os.path.join(out_dir, name + ".state_dict.npz"), np_state_dict(sd))

    h, w = spec["input_size"]
    x = torch.randn(2, 3, h, w)
    outs = run_model(model, x)
    save_npy(os.path.join(out_dir, name + ".input.npy"), x.numpy())
    save_npy(os.path.join(out_dir, name + ".logits.npy"), outs["logits"].numpy())
    save_npy(os.path.join(out_dir, name + ".stem.npy"), outs["stem"].numpy())
    for k in range(1, 5):
        save_npy(os.path.join(out_dir, "%s.stage%d.npy" % (name, k)), outs["stage%d" % k].numpy())
    print("  %s: logits %s, std %.4f" % (name, tuple(outs["logits"].shape),
                                         float(outs["logits"].std())))


# --------------------------------------------------------------------------
# Seed networks: seeded weights
# --------------------------------------------------------------------------


def make_seeded(spec, model, seeded_dir, ckpt_dir):
    name = spec["name"]
    sd = seeded_state_dict(model)
    model.load_state_dict(sd, strict=True)
    model.eval()
    h, w = spec["input_size"]
    x = torch.from_numpy(seeded_values("input", (1, 3, h, w)))
    outs = run_model(model, x)
    logits = outs["logits"].numpy()
    stats = collections.OrderedDict([
        ("logits_mean", float(logits.mean())), ("logits_std", float(logits.std())),
        ("logits_min", float(logits.min())), ("logits_max", float(logits.max())),
    ])
    save_npy(os.path.join(seeded_dir, name + ".logits.npy"), logits)
    for k in range(1, 5):
        a = outs["stage%d" % k].numpy().reshape(-1)
        assert np.isfinite(a).all(), (name, k)
        idx = np.arange(SAMPLE_COUNT) * (a.size // SAMPLE_COUNT)
        save_npy(os.path.join(seeded_dir, "%s.stage%d.sample.npy" % (name, k)), a[idx])
        stats["stage%d_max_abs" % k] = float(np.abs(a).max())
    assert np.isfinite(logits).all()
    assert 0.5 < stats["logits_std"] < 50, ("degenerate seeded logits", name, stats)
    if ckpt_dir:
        torch.save({"meta": meta_dict(spec), "state_dict": sd},
                   os.path.join(ckpt_dir, name + ".pth"))
        save_npy(os.path.join(ckpt_dir, name + ".input.npy"), x.numpy())
        save_npy(os.path.join(ckpt_dir, name + ".logits.npy"), logits)
    return stats


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT,
                    help="fixture directory (default: Res2Net.Tests/Fixtures)")
    ap.add_argument("--checkpoints", metavar="DIR", default=None,
                    help="also write full-size seeded .pth checkpoints, seeded input "
                         "and PyTorch logits of the seed networks to DIR")
    args = ap.parse_args()

    # One thread: the summation order (and so the last bits) then does not
    # depend on the machine's core count.
    torch.set_num_threads(1)
    out_dir = os.path.abspath(args.out)
    seeded_dir = os.path.join(out_dir, "seeded")
    os.makedirs(seeded_dir, exist_ok=True)
    if args.checkpoints:
        os.makedirs(args.checkpoints, exist_ok=True)
    t0 = time.time()
    print("torch %s, numpy %s" % (torch.__version__, np.__version__))

    seed_specs = [load_spec(p) for p in sorted(glob.glob(os.path.join(SEED_SPECS, "*.json")))]
    tiny_specs = [load_spec(p) for p in sorted(glob.glob(os.path.join(TINY_SPECS, "*.json")))]

    counts = collections.OrderedDict()
    for spec in seed_specs + tiny_specs:
        model = build(spec)
        params = count_params(model)
        flops = count_flops(model, spec["input_size"])
        counts[spec["name"]] = collections.OrderedDict([
            ("spec", spec["_path"].replace(os.sep, "/")),
            ("input_size", spec["input_size"]),
            ("params", params), ("flops", flops)])
        print("%-40s params %12d  flops %14d" % (spec["name"], params, flops))
        if spec["name"] in EXPECTED:
            assert (params, flops) == EXPECTED[spec["name"]], (spec["name"], params, flops)
    with open(os.path.join(out_dir, "params-flops.json"), "w", encoding="utf-8") as f:
        json.dump(counts, f, indent=2)
        f.write("\n")

    print("tiny networks (torch.manual_seed(%d)):" % TINY_TORCH_SEED)
    for spec in tiny_specs:
        make_tiny(spec, out_dir)

    with open(os.path.join(seeded_dir, "rule-vectors.json"), "w", encoding="utf-8") as f:
        json.dump(rule_vectors(), f, indent=2)
        f.write("\n")

    print("seed networks (seeded weights):")
    for spec in seed_specs:
        stats = make_seeded(spec, build(spec), seeded_dir, args.checkpoints)
        print("  %s: %s" % (spec["name"], ", ".join("%s %.4g" % kv for kv in stats.items())))

    print("done in %.1f s" % (time.time() - t0))


if __name__ == "__main__":
    sys.exit(main())
