#!/usr/bin/python3
"""Reference outputs for the runtime's SIMD kernels, one layer at a time, from PyTorch.

Res2Net.Tests/Kernels/ConvKernelTests.cs and PoolingKernelTests.cs run
Gemm.Conv and the Pooling kernels on the inputs written here and compare with
what PyTorch computes for the same layer. The shapes are chosen for the
kernels' edge cases rather than for Res2Net's real sizes: odd heights and
widths, output rows shorter and longer than a vector, widths that are not a
multiple of 8 or 16, K below and above the GEMM's 128-deep slices, and enough
work (or not) for the GEMM to split pixel columns or weight panels over two
threads.

Writes Res2Net.Tests/Fixtures/kernels/ (float32, little-endian, C-order):

  conv.NAME.npz   one conv layer, out = conv2d(input [+ second], weight,
                  stride, padding) + bias [+ residual], then ReLU if asked
      geometry    [in, H, W, out, k, stride, padding, tailChannel (-1: none),
                   second, residual, relu] (0/1 for the flags), for the test
                   to check its own table against
      input       [in, H, W], or [tailChannel, H, W] with a concat tail
      tail        [in - tailChannel, H, W] (input channels >= tailChannel)
      second      [in, H, W], added to input element-wise before the conv
      weight      [out, in, k, k]   (PyTorch's layout; the test packs it)
      bias        [out]
      residual    [out, OH, OW]
      expected    [out, OH, OW]: computed in float64 from the float32 inputs
                  (input + second is summed in float32 first, as the
                  network's sp + spx[i] is), then rounded to float32 once,
                  so it is the exact result within half an ulp

  pool.NAME.npz   one input [C, H, W] and PyTorch's pools of it:
      max_k3_s2_p1        MaxPool2d(3, 2, 1)                       (float32)
      avg_k3_sS_p1        AvgPool2d(3, S, 1, count_include_pad=True)
      avgceil_kK_sK_p0    AvgPool2d(K, K, ceil_mode=True, count_include_pad=False)
      global              the mean of each channel, [C]
      (the averages in float64, rounded to float32 once)

Every tensor comes from a torch.Generator seeded with the case name's CRC-32,
so a case's data does not depend on which other cases exist. The .npz members
carry a fixed timestamp: a rerun is byte-stable on the same machine.

Run with Debian's interpreter (python3-torch 1.13):
    /usr/bin/python3 tools/reference/make_kernel_fixtures.py
"""

import argparse
import os
import zipfile
import zlib

import numpy as np
import torch
import torch.nn.functional as F

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "Res2Net.Tests", "Fixtures", "kernels")

# name, in, H, W, out, kernel, stride, padding, tailChannel (None: no tail), second, residual, relu.
# The comments say which path of Gemm.Conv each case takes on 2 threads with AVX-512 (64-pixel tiles):
# it runs on one thread below M·N·K = 2^18, splits pixel columns when N/64 >= 4, else weight panels,
# and packs B tiles when a thread passes 8 or more panels (32+ output channels) over them, or for a tail.
# Where AVX-512 is available, k×k convs with "same" padding and no residual or tail go to DirectConv (shifted
# planes, no im2col matrix) and split the same way; the cases with a residual keep the gathered path, so each
# geometry below is covered on both.
CONV_CASES = [
    # 3×3 stride 2 padding 1: the first conv of each stage's first block.
    ("k3s2-c5-13x17-o7", 5, 13, 17, 7, 3, 2, 1, None, False, False, True),      # 7×9 out, 1 thread, K=45
    ("k3s2-c7-56x56-o6", 7, 56, 56, 6, 3, 2, 1, None, False, True, False),    # 28×28 out, column split
    ("k3s2-c16-14x14-o36", 16, 14, 14, 36, 3, 2, 1, None, False, True, True),   # 7×7 out, 1 thread, packed, K=144
    ("k3s2-c16-13x13-o64", 16, 13, 13, 64, 3, 2, 1, None, False, False, True),  # 7×7 out, panel split, packed
    ("k3s2-c2-34x65-o5", 2, 34, 65, 5, 3, 2, 1, None, False, False, True),      # 17×33 out, 1 thread
    ("k3s2-c4-10x9-o10", 4, 10, 9, 10, 3, 2, 1, None, False, False, False),     # 5×5 out
    ("k3s2-c5-40x37-o16", 5, 40, 37, 16, 3, 2, 1, None, False, False, False),   # 20×19 out, column split
    ("k3s2-sum-c3-9x11-o5", 3, 9, 11, 5, 3, 2, 1, None, True, False, True),     # strided gather with a second input
    # 3×3 stride 1 padding 1 with the hierarchical add sp + spx[i].
    ("k3s1-sum-c8-13x11-o8", 8, 13, 11, 8, 3, 1, 1, None, True, False, True),   # 1 thread
    ("k3s1-sum-c26-16x17-o26", 26, 16, 17, 26, 3, 1, 1, None, True, False, True),  # column split, K=234
    ("k3s1-sum-c14-7x7-o14", 14, 7, 7, 14, 3, 1, 1, None, True, True, False),   # layer4's size, 1 thread
    ("k3s1-sum-c16-7x9-o40", 16, 7, 9, 40, 3, 1, 1, None, True, True, False),   # panel split, K=144
    ("k3s1-sum-c6-5x3-o10", 6, 5, 3, 10, 3, 1, 1, None, True, False, True),     # 15 pixels, 1 thread
    ("k3s1-sum-c16-7x7-o48", 16, 7, 7, 48, 3, 1, 1, None, True, False, True),   # panel split
    # 7×7 stride 2 padding 3: the stem.
    ("k7s2-c3-45x37-o16", 3, 45, 37, 16, 7, 2, 3, None, False, False, True),    # 23×19 out, column split, K=147
    ("k7s2-c3-64x64-o5", 3, 64, 64, 5, 7, 2, 3, None, False, False, False),     # 32×32 out, column split
    ("k7s2-c3-29x31-o8", 3, 29, 31, 8, 7, 2, 3, None, False, True, True),       # 15×16 out, panel split
    # 1×1 stride 2: the shortcuts.
    ("k1s2-c12-13x15-o20", 12, 13, 15, 20, 1, 2, 0, None, False, False, False),  # 7×8 out, 1 thread
    ("k1s2-c8-21x37-o24", 8, 21, 37, 24, 1, 2, 0, None, False, False, True),    # 11×19 out, 1 thread
    # 1×1 stride 1, read in place (no gather); with a concat tail from a second buffer.
    ("k1s1-c20-11x13-o12", 20, 11, 13, 12, 1, 1, 0, None, False, True, True),   # 1 thread, B read in place
    ("k1s1-tail71-c136-9x7-o40", 136, 9, 7, 40, 1, 1, 0, 71, False, True, True),  # panel split, K=136
    ("k1s1-tail13-c32-16x17-o32", 32, 16, 17, 32, 1, 1, 0, 13, False, False, True),  # column split, packed
]

ALL_POOLS = ["max_k3_s2_p1", "avg_k3_s1_p1", "avg_k3_s2_p1", "avgceil_k2_s2_p0", "avgceil_k1_s1_p0", "global"]

# name, channels, H, W, pools.
POOL_CASES = [
    ("c3-7x9", 3, 7, 9, ALL_POOLS),
    ("c4-13x17", 4, 13, 17, ALL_POOLS),
    ("c2-24x20", 2, 24, 20, ALL_POOLS),
    ("c3-5x6", 3, 5, 6, ALL_POOLS),
    ("c9-5x3", 9, 5, 3, ALL_POOLS),
    ("c20-7x7", 20, 7, 7, ["avg_k3_s1_p1", "avgceil_k2_s2_p0", "global"]),
    ("c1-56x56", 1, 56, 56, ALL_POOLS),
    ("c1-112x112", 1, 112, 112, ["max_k3_s2_p1", "avg_k3_s2_p1"]),
]


def generator(name):
    g = torch.Generator()
    g.manual_seed(zlib.crc32(name.encode("ascii")))
    return g


def out_size(size, kernel, stride, padding, ceil=False):
    """torch's pooling_output_shape (conv2d's is the same without ceil mode)."""
    numerator = size + 2 * padding - kernel
    out = (-(-numerator // stride) if ceil else numerator // stride) + 1
    if ceil and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def save_npz(path, arrays):
    """np.savez's layout (uncompressed zip of KEY.npy members) with a fixed member timestamp."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for key, arr in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            with zf.open(info, "w") as f:
                np.lib.format.write_array(f, np.ascontiguousarray(arr, dtype="<f4"), allow_pickle=False)


def f32(t):
    return t.detach().to(torch.float32).contiguous().numpy()


def make_conv(case, out_dir):
    name, cin, h, w, cout, k, s, p, tail_channel, with_second, with_residual, relu = case
    g = generator("conv." + name)
    taps = cin * k * k
    x = torch.randn(cin, h, w, generator=g)
    weight = torch.randn(cout, cin, k, k, generator=g) / taps ** 0.5  # outputs stay O(1)
    bias = torch.randn(cout, generator=g) * 0.5
    oh, ow = out_size(h, k, s, p), out_size(w, k, s, p)
    second = torch.randn(cin, h, w, generator=g) if with_second else None
    residual = torch.randn(cout, oh, ow, generator=g) if with_residual else None

    effective = x + second if second is not None else x  # float32, as PyTorch's module adds sp + spx[i]
    wd, bd = weight.double(), bias.double()
    y = F.conv2d(effective.double()[None], wd, bd, stride=s, padding=p)[0]
    if residual is not None:
        y = y + residual.double()
    if relu:
        y = torch.relu(y)
    assert y.shape == (cout, oh, ow), (name, y.shape)

    arrays = {
        "geometry": np.array([cin, h, w, cout, k, s, p, -1 if tail_channel is None else tail_channel,
                              int(with_second), int(with_residual), int(relu)], dtype=np.float32),
        "input": f32(x if tail_channel is None else x[:tail_channel]),
    }
    if tail_channel is not None:
        assert k == 1 and s == 1 and p == 0 and not with_second and 0 < tail_channel < cin
        arrays["tail"] = f32(x[tail_channel:])
    if second is not None:
        arrays["second"] = f32(second)
    arrays["weight"] = f32(weight)
    arrays["bias"] = f32(bias)
    if residual is not None:
        arrays["residual"] = f32(residual)
    arrays["expected"] = f32(y)
    path = os.path.join(out_dir, f"conv.{name}.npz")
    save_npz(path, arrays)
    return path


def make_pool(case, out_dir):
    name, channels, h, w, pools = case
    g = generator("pool." + name)
    x = torch.randn(channels, h, w, generator=g)
    xd = x.double()[None]
    arrays = {"input": f32(x)}
    for key in pools:
        if key == "global":
            y = x.double().mean(dim=(1, 2))
        else:
            op, kernel, stride, padding = key.split("_")
            kernel, stride, padding = int(kernel[1:]), int(stride[1:]), int(padding[1:])
            ceil = op == "avgceil"
            if op == "max":
                y = F.max_pool2d(x[None], kernel, stride, padding)[0]  # exact in float32
            elif op == "avg":
                y = F.avg_pool2d(xd, kernel, stride, padding, count_include_pad=True)[0]
            else:
                y = F.avg_pool2d(xd, kernel, stride, padding, ceil_mode=True, count_include_pad=False)[0]
            expected = (channels, out_size(h, kernel, stride, padding, ceil), out_size(w, kernel, stride, padding, ceil))
            assert tuple(y.shape) == expected, (name, key, y.shape, expected)
        arrays[key] = f32(y)
    path = os.path.join(out_dir, f"pool.{name}.npz")
    save_npz(path, arrays)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    paths = [make_conv(c, args.out) for c in CONV_CASES] + [make_pool(c, args.out) for c in POOL_CASES]
    total = sum(os.path.getsize(p) for p in paths)
    for path in paths:
        print(f"{os.path.getsize(path):>9,}  {os.path.relpath(path, REPO)}")
    print(f"{total:>9,}  total, {len(paths)} files")
    assert total < 1_250_000, "kernel fixtures should stay small"


if __name__ == "__main__":
    main()
