#!/usr/bin/python3
"""Reference fixtures for the decoder's extra formats and edge cases, produced by OpenCV and Pillow.

Writes Res2Net.Tests/Fixtures/images/formats/ (a few kB):

  *.ppm, *.pgm     Netpbm files in the variants OpenCV 4.6's PxM reader handles: binary P5/P6 and ASCII P2/P3,
                   8-bit and 16-bit maxval, header comments; <name>.decoded.npy is cv2.imread(IMREAD_COLOR) as RGB.
                   A truncated file and one whose last ASCII sample has no delimiter after it record what cv2 does
                   (None: refused).
  cmyk-pil.npy     Pillow's Image.open(...).convert("RGB") of synthetic/cmyk-160x120.jpg (an Adobe, inverted-CMYK
                   JPEG), to pin that our decode of it is Pillow's, not OpenCV's (see docs/inference.md).
  wide-4100x1.png, tall-2x8201.png, wide-12000x1.png, tall-3x40000.png
                   aspect ratios above 4096:1 (the last two resize to more than 2^31 bytes); expected.json holds the sha256 of the float32 tensor mmpretrain's
                   pipeline (cv2 decode, Pillow ResizeEdge 256, CenterCrop 224, normalize) gives for each.
  expected.json    per file: cv2's decoded size and .npy, or null when cv2 refuses it; the tensors' sha256.

Run (deterministic): /usr/bin/python3 tools/reference/make_format_fixtures.py
Needs Debian's python3-pil, python3-numpy and python3-opencv (4.6).
"""

import json
import os
import sys

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_image_fixtures import (DEFAULT_OUT, CROP, center_crop_box, cv2_decode_rgb, normalize_chw,  # noqa: E402
                                 pil_resize, resize_edge_size, scene, sha256)

OUT = os.path.join(DEFAULT_OUT, "formats")


def netpbm(magic, w, h, maxval, samples, comment=False):
    """A Netpbm file: header, then the samples (binary big-endian for P5/P6, decimal text for P2/P3)."""
    head = f"{magic}\n" + ("# made by make_format_fixtures.py\n" if comment else "") + f"{w} " + \
        ("# width above, height below\n" if comment else "") + f"{h}\n{maxval}\n"
    flat = np.asarray(samples).reshape(-1)
    if magic in ("P5", "P6"):
        body = flat.astype(">u2" if maxval > 255 else "u1").tobytes()
    else:
        per_line = 3 * w if magic == "P3" else w
        body = "\n".join(" ".join(str(int(v)) for v in flat[i:i + per_line]) for i in range(0, len(flat), per_line))
        body = (body + "\n").encode()
    return head.encode() + body


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(2026)
    files = {}

    def put(name, data, note):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        files[name] = note

    rgb = scene(37, 23, 31)
    put("p6-37x23.ppm", netpbm("P6", 37, 23, 255, rgb), "binary RGB, maxval 255")
    put("p5-29x17.pgm", netpbm("P5", 29, 17, 255, scene(29, 17, 32)[..., 1]), "binary grey, maxval 255")
    put("p5-maxval100-20x10.pgm", netpbm("P5", 20, 10, 100, rng.integers(0, 256, (10, 20))),
        "binary grey, maxval 100, samples up to 255: OpenCV keeps the raw bytes (no scaling, no clamping)")
    put("p6-16bit-21x13.ppm", netpbm("P6", 21, 13, 65535, rng.integers(0, 65536, (13, 21, 3))),
        "binary RGB, 16-bit: OpenCV keeps the high byte")
    put("p5-16bit-maxval1000-19x11.pgm", netpbm("P5", 19, 11, 1000, rng.integers(0, 1001, (11, 19))),
        "binary grey, maxval 1000: the high byte, not scaled to maxval")
    put("p3-maxval100-9x7.ppm", netpbm("P3", 9, 7, 100, rng.integers(0, 120, (7, 9, 3)), comment=True),
        "ASCII RGB, maxval 100, comments in the header, samples above maxval: clamped, then scaled v*255/maxval")
    put("p2-16bit-8x6.pgm", netpbm("P2", 8, 6, 4000, rng.integers(0, 4200, (6, 8))),
        "ASCII grey, maxval 4000: clamped to maxval, then the high byte")
    put("p2-255-7x5.pgm", netpbm("P2", 7, 5, 255, rng.integers(0, 256, (5, 7))), "ASCII grey, maxval 255")
    full = netpbm("P6", 37, 23, 255, rgb)
    put("truncated-p6.ppm", full[:len(full) - 40], "binary RGB missing its last 40 bytes")
    put("p2-no-final-delimiter.pgm", netpbm("P2", 7, 5, 255, rng.integers(0, 256, (5, 7)))[:-1],
        "ASCII grey whose last sample ends the file: OpenCV reads one byte past every number")

    expected = {"files": {}, "tensors": {}}
    for name, note in sorted(files.items()):
        decoded = cv2_decode_rgb(os.path.join(OUT, name))
        entry = {"note": note, "decoded": None}
        if decoded is not None:
            stem = os.path.splitext(name)[0]
            np.save(os.path.join(OUT, f"{stem}.decoded.npy"), decoded)
            entry["decoded"] = {"width": decoded.shape[1], "height": decoded.shape[0], "npy": f"{stem}.decoded.npy"}
        expected["files"][name] = entry

    cmyk = os.path.join(DEFAULT_OUT, "synthetic", "cmyk-160x120.jpg")
    pil = np.array(Image.open(cmyk).convert("RGB"))
    np.save(os.path.join(OUT, "cmyk-pil.npy"), pil)
    cv = cv2_decode_rgb(cmyk)
    diff = np.abs(pil.astype(int) - cv.astype(int))
    expected["cmyk"] = {"file": "synthetic/cmyk-160x120.jpg", "pil_npy": "cmyk-pil.npy",
                        "max_diff_to_opencv": int(diff.max()), "share_differing": float((diff > 0).mean())}

    for name, (w, h) in {"wide-4100x1.png": (4100, 1), "tall-2x8201.png": (2, 8201),
                          "wide-12000x1.png": (12000, 1), "tall-3x40000.png": (3, 40000)}.items():
        Image.fromarray(scene(w, h, 33 + h, noise=0)).save(os.path.join(OUT, name))
        img = cv2_decode_rgb(os.path.join(OUT, name))
        nw, nh = resize_edge_size(img.shape[1], img.shape[0])
        resized = pil_resize(img, nw, nh)
        x, y, cw, ch = center_crop_box(nw, nh, CROP, CROP)
        tensor = normalize_chw(resized[y:y + ch, x:x + cw])
        expected["tensors"][name] = {"resized": [nw, nh], "crop": [x, y, cw, ch], "sha256": sha256(tensor)}
        del resized

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(expected["cmyk"]), {k: v["decoded"] is not None for k, v in expected["files"].items()})


if __name__ == "__main__":
    main()
