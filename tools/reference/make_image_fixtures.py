#!/usr/bin/python3
"""Reference fixtures for image preprocessing, produced by OpenCV and Pillow.

mmpretrain's test pipeline for the Res2Net models is:

  LoadImageFromFile  -> cv2.imread(path, cv2.IMREAD_COLOR)   (BGR, uint8)
  ResizeEdge(256, edge='short', backend='pillow', interpolation='bilinear')
                     -> short side 256, long side int(256 * long / short),
                        PIL Image.resize(..., BILINEAR)
  CenterCrop(224)    -> mmcv: x1 = max(0, int(round((W - 224) / 2.))),
                        box clipped to the image
  ClsDataPreprocessor(to_rgb=True, mean, std)
                     -> RGB, float32, (x - mean) / std, CHW

This script runs exactly those library calls (mmpretrain/mmcv themselves are
not needed: their few lines of glue are reproduced below) and writes what the
C# tests in Res2Net.Tests/Imaging compare against, all under
Res2Net.Tests/Fixtures/images/:

  demo/        the four demo photos (copied from data/images/), plus
               <name>.tensor.npy, the expected [3,224,224] float32 input
  synthetic/   small generated images covering the decoder's edge cases
               (odd sizes, very tall/wide, grey, alpha, palette, 1-bit,
               16-bit, CMYK, progressive, interlaced, EXIF orientations 1-8,
               BMP, WebP, an image smaller than the crop, a 1x1 image);
               <name>.decoded.npy (uint8 HWC RGB as OpenCV decodes it) for
               the small ones, <name>.tensor.npy for a few
  corrupt/     files that must be refused (truncated, garbage, empty, GIF;
               expected.json records what cv2.imread does with each)
  resize/      random uint8 images and Pillow's BILINEAR resize of them to
               other sizes (up, down, one axis only, 1-pixel edges)
  expected.json  per image: decoded size + sha256 of the RGB bytes, resized
               size + sha256, crop box, sha256 of the float32 tensor bytes;
               tensor sha256s under two non-default pipelines (other resize
               edge, non-square crop, other mean/std); the crop-offset table;
               the resize cases; the corrupt files.

Equality is exact, so a sha256 of the little-endian float32 bytes is as strong
as the full tensor; full tensors are kept only for a few images, to show
where a mismatch is when one appears.

The test suite never runs Python. Re-run this script (it is deterministic on a
given machine) only when the fixture set changes:

    /usr/bin/python3 tools/reference/make_image_fixtures.py

Needs Debian's python3-pil (9.4), python3-numpy (1.24) and python3-opencv
(4.6): apt-get install -y python3-pil python3-numpy python3-opencv.
"""

import argparse
import hashlib
import io
import json
import os
import shutil
import struct
import zlib

import cv2
import numpy as np
from PIL import Image

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEMO_SRC = os.path.join(REPO, "data", "images")
DEFAULT_OUT = os.path.join(REPO, "Res2Net.Tests", "Fixtures", "images")

RESIZE_EDGE = 256
CROP = 224
MEAN = np.array([123.675, 116.28, 103.53], np.float32)   # RGB
STD = np.array([58.395, 57.12, 57.375], np.float32)

# Synthetic images up to this many pixels also get their decoded RGB as .npy.
DECODED_NPY_MAX_PIXELS = 20_000
# Images (relative to OUT) whose full expected tensor is stored as .npy.
FULL_TENSOR = {
    "demo/bird.JPEG", "demo/cat-dog.png", "demo/demo.JPEG", "demo/dog.jpg",
    "synthetic/odd-403x301.jpg", "synthetic/rgba-300x200.png",
}

BILINEAR = getattr(Image, "Resampling", Image).BILINEAR


# --------------------------------------------------------------------------
# The reference pipeline (mmcv / mmpretrain glue around cv2 and PIL)
# --------------------------------------------------------------------------


def cv2_decode_rgb(path):
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        return None
    return np.ascontiguousarray(bgr[..., ::-1])


def resize_edge_size(w, h, scale=RESIZE_EDGE):
    # mmpretrain ResizeEdge.transform, edge='short'.
    if w < h:
        return scale, int(scale * h / w)
    return int(scale * w / h), scale


def pil_resize(rgb, new_w, new_h):
    # mmcv.imresize(backend='pillow'): Image.fromarray -> resize -> np.array.
    return np.array(Image.fromarray(rgb).resize((new_w, new_h), BILINEAR))


def center_crop_box(img_w, img_h, crop_w, crop_h):
    # mmcv CenterCrop.transform followed by mmcv.imcrop's clipping.
    y1 = max(0, int(round((img_h - crop_h) / 2.)))
    x1 = max(0, int(round((img_w - crop_w) / 2.)))
    y2 = min(img_h, y1 + crop_h) - 1
    x2 = min(img_w, x1 + crop_w) - 1
    return x1, y1, x2 - x1 + 1, y2 - y1 + 1


def normalize_chw(rgb, mean=MEAN, std=STD):
    x = (rgb.astype(np.float32) - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    assert x.dtype == np.float32
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def sha256(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


# --------------------------------------------------------------------------
# Synthetic images
# --------------------------------------------------------------------------


def scene(w, h, seed, noise=10):
    """Smooth colour ramps, a few hard-edged shapes and mild noise: enough
    structure to exercise the filter, yet small once compressed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = 127.5 + 127.5 * np.sin((x + 2 * y) / max(w, h) * 6.0)
    img = np.stack([r, g, b], -1)
    for _ in range(4):
        cx, cy = rng.integers(0, w), rng.integers(0, h)
        rad = rng.integers(max(2, min(w, h) // 10), max(3, min(w, h) // 3))
        colour = rng.integers(0, 256, 3)
        img[(x - cx) ** 2 + (y - cy) ** 2 < rad ** 2] = colour
    img[: max(1, h // 8), : max(1, w // 8)] = (255, 0, 0)   # marks the top-left corner
    img += rng.normal(0, noise, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def save_pil(path, arr, mode=None, **kw):
    Image.fromarray(arr, mode).save(path, **kw) if mode else Image.fromarray(arr).save(path, **kw)


def exif_tiff(orientation, big_endian=False):
    e = ">" if big_endian else "<"
    head = (b"MM" if big_endian else b"II") + struct.pack(e + "HI", 42, 8)
    ifd = struct.pack(e + "H", 1) + struct.pack(e + "HHIHH", 0x112, 3, 1, orientation, 0) + struct.pack(e + "I", 0)
    return head + ifd


def jpeg_with_segments(jpeg, segments):
    """Inserts APPn segments right after SOI."""
    extra = b"".join(b"\xff" + bytes([m]) + struct.pack(">H", len(p) + 2) + p for m, p in segments)
    return jpeg[:2] + extra + jpeg[2:]


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_adam7(rgb):
    """An interlaced 8-bit RGB PNG (Pillow cannot write one)."""
    h, w, _ = rgb.shape
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = rgb[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        for row in sub:
            raw += b"\x00" + row.tobytes()
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")


def png_insert_before_idat(png, chunk):
    i = png.index(b"IDAT") - 4
    return png[:i] + chunk + png[i:]


def make_synthetic(d):
    """Writes the synthetic images; returns {file name: note}."""
    notes = {}

    def put(name, note):
        notes[name] = note
        return os.path.join(d, name)

    save_pil(put("odd-403x301.jpg", "RGB JPEG, odd size, 4:2:0"), scene(403, 301, 1), quality=80)
    save_pil(put("tall-60x700.jpg", "very tall"), scene(60, 700, 2), quality=85)
    save_pil(put("wide-700x60.png", "very wide"), scene(700, 60, 3, noise=2), optimize=True)
    save_pil(put("grey-L-157x211.png", "8-bit grey PNG (L)"), scene(157, 211, 4)[..., 1], "L", optimize=True)
    save_pil(put("grey-L-211x157.jpg", "1-component JPEG"), scene(211, 157, 5)[..., 0], "L", quality=85)

    rgb = scene(300, 200, 6)
    yy, xx = np.mgrid[0:200, 0:300]
    alpha = ((xx * 255) // 299).astype(np.uint8)
    alpha[:, :40] = 0          # fully transparent, colours still there
    alpha[150:, :] = 255
    save_pil(put("rgba-300x200.png", "RGBA, alpha from 0 to 255 (alpha is dropped, not blended)"),
             np.dstack([rgb, alpha]), "RGBA", optimize=True)
    la = np.dstack([scene(120, 90, 7)[..., 2], ((xx[:90, :120] * 2) % 256).astype(np.uint8)])
    save_pil(put("la-120x90.png", "grey + alpha (LA)"), la, "LA")

    pal = Image.fromarray(scene(250, 190, 8, noise=0)).quantize(colors=48, method=Image.MEDIANCUT)
    trns = bytes([0, 64, 128] + [255] * 45)
    pal.save(put("palette-P-250x190.png", "palette PNG with tRNS transparency"), transparency=trns, optimize=True)
    Image.fromarray(scene(130, 97, 9)[..., 0]).convert("1").save(put("bilevel-1bit-130x97.png", "1-bit PNG"))

    save_pil(put("progressive-320x240.jpg", "progressive JPEG"), scene(320, 240, 10), quality=75, progressive=True)
    save_pil(put("s444-200x150.jpg", "JPEG without chroma subsampling"), scene(200, 150, 11), quality=80, subsampling=0)
    save_pil(put("s422-200x150.jpg", "JPEG 4:2:2"), scene(200, 150, 12), quality=80, subsampling=1)
    save_pil(put("small-100x80.png", "smaller than the crop: ResizeEdge upsamples it to 320x256"), scene(100, 80, 13))
    save_pil(put("thin-5x40.png", "extreme aspect: resized to 256x2048"), scene(5, 40, 14))
    save_pil(put("pixel-1x1.png", "a single pixel"), np.array([[[200, 100, 50]]], np.uint8))
    save_pil(put("noresize-256x300.png", "short side already 256: ResizeEdge leaves it alone"),
             scene(256, 300, 15, noise=0), optimize=True)

    rng = np.random.default_rng(16)
    rgb16 = scene(200, 150, 16).astype(np.uint16) * 257 + rng.integers(0, 257, (150, 200, 3)).astype(np.uint16)
    cv2.imwrite(put("rgb16-200x150.png", "16-bit RGB PNG: OpenCV keeps the high byte"), rgb16[..., ::-1])
    cv2.imwrite(put("grey16-90x120.png", "16-bit grey PNG"), rgb16[:120, :90, 1])
    rgba16 = np.dstack([rgb16[:60, :80], np.full((60, 80), 30000, np.uint16)])
    cv2.imwrite(put("rgba16-80x60.png", "16-bit RGBA PNG"), rgba16[..., [2, 1, 0, 3]])

    Image.fromarray(scene(160, 120, 17)).convert("CMYK").save(
        put("cmyk-160x120.jpg", "CMYK JPEG (Adobe): Skia's CMYK->RGB differs from OpenCV's by up to 1 level"), quality=85)

    with open(put("interlaced-150x110.png", "Adam7-interlaced PNG"), "wb") as f:
        f.write(png_adam7(scene(150, 110, 18, noise=4)))

    # EXIF orientation: one asymmetric image under every orientation value.
    base = scene(48, 32, 19)
    for o in range(1, 9):
        b = io.BytesIO()
        Image.fromarray(base).save(b, "JPEG", quality=90)
        data = jpeg_with_segments(b.getvalue(), [(0xE1, b"Exif\x00\x00" + exif_tiff(o, big_endian=(o % 2 == 0)))])
        with open(put(f"exif-orient{o}-48x32.jpg", f"EXIF orientation {o}"), "wb") as f:
            f.write(data)
    b = io.BytesIO()
    Image.fromarray(base).save(b, "JPEG", quality=90)
    data = jpeg_with_segments(b.getvalue(), [(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"),
                                             (0xE1, b"Exif\x00\x00" + exif_tiff(6))])
    with open(put("exif-xmp-first-48x32.jpg",
                  "orientation 6 in the second APP1: OpenCV reads only the first APP1, so no rotation"), "wb") as f:
        f.write(data)
    b = io.BytesIO()
    Image.fromarray(base).save(b, "PNG")
    with open(put("exif-orient6-48x32.png", "PNG with an eXIf chunk, orientation 6"), "wb") as f:
        f.write(png_insert_before_idat(b.getvalue(), png_chunk(b"eXIf", exif_tiff(6))))
    big = scene(640, 480, 20)
    b = io.BytesIO()
    Image.fromarray(big).save(b, "JPEG", quality=60)
    with open(put("exif-orient6-640x480.jpg", "EXIF orientation 6 at full pipeline size"), "wb") as f:
        f.write(jpeg_with_segments(b.getvalue(), [(0xE1, b"Exif\x00\x00" + exif_tiff(6))]))
    b = io.BytesIO()
    Image.fromarray(scene(300, 220, 21)).save(b, "JPEG", quality=60)
    with open(put("exif-orient3-300x220.jpg", "EXIF orientation 3 at full pipeline size"), "wb") as f:
        f.write(jpeg_with_segments(b.getvalue(), [(0xE1, b"Exif\x00\x00" + exif_tiff(3))]))

    b = io.BytesIO()
    Image.fromarray(scene(200, 150, 24)).save(b, "JPEG", quality=80)
    with open(put("trailing-bytes-200x150.jpg", "bytes after the EOI marker are ignored"), "wb") as f:
        f.write(b.getvalue() + b"\x00" * 64 + b"trailing")
    thumb = io.BytesIO()
    Image.fromarray(scene(32, 24, 25)).save(thumb, "JPEG", quality=50)
    with_thumb = jpeg_with_segments(b.getvalue(), [(0xE1, b"Exif\x00\x00" + exif_tiff(1) + thumb.getvalue())])
    with open(put("exif-thumbnail-200x150.jpg", "an APP1 holding a whole JPEG (with its own EOI) as thumbnail"), "wb") as f:
        f.write(with_thumb)
    with open(put("damaged-scan-200x150.jpg",
                  "scan cut short but EOI present: libjpeg fills the rest and both decoders agree"), "wb") as f:
        f.write(b.getvalue()[: len(b.getvalue()) * 2 // 3] + b"\xff\xd9")

    save_pil(put("bgr24-100x80.bmp", "24-bit BMP"), scene(100, 80, 22))
    save_pil(put("lossy-200x150.webp", "lossy WebP"), scene(200, 150, 23), quality=70)
    webp = Image.fromarray(base)
    exif = webp.getexif()
    exif[0x112] = 6
    webp.save(put("exif-orient6-48x32.webp", "WebP with EXIF orientation 6: OpenCV 4.6 ignores it"),
              exif=exif.tobytes(), lossless=True)
    return notes


def make_corrupt(d, synthetic_dir):
    """Files the decoder must refuse. cv2's own behaviour is recorded too:
    OpenCV returns a half-grey image for a truncated JPEG, which mmpretrain
    would then classify; refusing it is a deliberate difference."""
    notes = {}
    with open(os.path.join(synthetic_dir, "odd-403x301.jpg"), "rb") as f:
        jpeg = f.read()
    with open(os.path.join(synthetic_dir, "small-100x80.png"), "rb") as f:
        png = f.read()
    with open(os.path.join(synthetic_dir, "progressive-320x240.jpg"), "rb") as f:
        progressive = f.read()
    assert jpeg.endswith(b"\xff\xd9") and progressive.endswith(b"\xff\xd9") and png.endswith(b"IEND\xaeB`\x82")
    files = {
        "truncated-half.jpg": (jpeg[: len(jpeg) // 2], "JPEG cut in the middle of the scan"),
        "truncated-header.jpg": (jpeg[:120], "JPEG cut inside its header"),
        "truncated-progressive.jpg": (progressive[: len(progressive) * 2 // 3],
                                      "progressive JPEG cut between scans (Skia alone would report success)"),
        "no-eoi.jpg": (jpeg[:-2], "complete JPEG without its EOI marker: OpenCV decodes it, we cannot tell it from a truncated one"),
        "truncated.png": (png[: len(png) * 2 // 3], "PNG cut inside IDAT"),
        "no-iend.png": (png[:-12], "PNG without its IEND chunk (Skia alone would report success)"),
        "garbage.jpg": (np.random.default_rng(30).integers(0, 256, 3000, dtype=np.uint8).tobytes(), "random bytes"),
        "empty.png": (b"", "zero bytes"),
    }
    b = io.BytesIO()
    Image.fromarray(scene(40, 30, 31)).save(b, "GIF")
    files["animation.gif"] = (b.getvalue(), "GIF: OpenCV 4.6's imread cannot read it")
    with open(os.path.join(synthetic_dir, "exif-thumbnail-200x150.jpg"), "rb") as f:
        with_thumb = f.read()
    files["truncated-with-thumbnail.jpg"] = (with_thumb[: len(with_thumb) * 3 // 4],
                                             "truncated JPEG whose EXIF thumbnail has an EOI marker of its own")
    for name, (data, note) in files.items():
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(data)
        decoded = cv2.imread(path, cv2.IMREAD_COLOR)
        notes[name] = {"note": note, "cv2": "None" if decoded is None else f"decodes to {decoded.shape}"}
    return notes


# --------------------------------------------------------------------------
# Expected values
# --------------------------------------------------------------------------


def expected_for(out_dir, rel, note, save_decoded):
    path = os.path.join(out_dir, rel)
    rgb = cv2_decode_rgb(path)
    assert rgb is not None, rel
    h, w = rgb.shape[:2]
    nw, nh = resize_edge_size(w, h)
    resized = pil_resize(rgb, nw, nh)
    assert resized.shape == (nh, nw, 3)
    x, y, cw, ch = center_crop_box(nw, nh, CROP, CROP)
    assert (cw, ch) == (CROP, CROP)
    tensor = normalize_chw(resized[y:y + ch, x:x + cw])
    entry = {
        "file": rel,
        "note": note,
        "decoded": {"width": w, "height": h, "sha256": sha256(rgb)},
        "resized": {"width": nw, "height": nh, "sha256": sha256(resized)},
        "crop": {"x": x, "y": y, "width": cw, "height": ch},
        "tensor": {"sha256": sha256(tensor)},
    }
    if save_decoded and w * h <= DECODED_NPY_MAX_PIXELS:
        np.save(path + ".decoded.npy", rgb)
        entry["decoded"]["npy"] = rel + ".decoded.npy"
    if rel in FULL_TENSOR:
        np.save(path + ".tensor.npy", tensor)
        entry["tensor"]["npy"] = rel + ".tensor.npy"
    return entry


# Non-default pipelines: the C# side takes these as parameters (PreprocessConfig).
OTHER_CONFIGS = [
    {"resizeEdge": 180, "cropHeight": 160, "cropWidth": 160, "mean": MEAN.tolist(), "std": STD.tolist()},
    {"resizeEdge": 240, "cropHeight": 200, "cropWidth": 232, "mean": [127.5, 127.5, 127.5], "std": [127.5, 64.0, 32.0]},
]
OTHER_CONFIG_IMAGES = ["demo/bird.JPEG", "demo/cat-dog.png", "synthetic/odd-403x301.jpg",
                       "synthetic/tall-60x700.jpg", "synthetic/wide-700x60.png", "synthetic/small-100x80.png"]


def other_config_tensors(out_dir):
    configs = []
    for cfg in OTHER_CONFIGS:
        tensors = {}
        for rel in OTHER_CONFIG_IMAGES:
            rgb = cv2_decode_rgb(os.path.join(out_dir, rel))
            h, w = rgb.shape[:2]
            nw, nh = resize_edge_size(w, h, cfg["resizeEdge"])
            resized = pil_resize(rgb, nw, nh)
            x, y, cw, ch = center_crop_box(nw, nh, cfg["cropWidth"], cfg["cropHeight"])
            assert (cw, ch) == (cfg["cropWidth"], cfg["cropHeight"])
            tensors[rel] = sha256(normalize_chw(resized[y:y + ch, x:x + cw], cfg["mean"], cfg["std"]))
        configs.append(dict(cfg, tensors=tensors))
    return configs


def make_resize_cases(d):
    cases = [  # (in_w, in_h, out_w, out_h)
        (37, 23, 16, 11), (16, 11, 37, 23), (40, 30, 40, 17), (40, 30, 13, 30),
        (64, 48, 7, 5), (5, 4, 64, 48), (1, 1, 9, 7), (50, 1, 7, 1), (33, 33, 32, 32),
        (32, 32, 33, 33), (61, 47, 20, 47), (100, 3, 256, 7), (64, 64, 3, 64), (29, 31, 31, 29),
    ]
    rng = np.random.default_rng(40)
    out = []
    for i, (iw, ih, ow, oh) in enumerate(cases):
        src = rng.integers(0, 256, (ih, iw, 3), dtype=np.uint8)
        dst = pil_resize(src, ow, oh)
        stem = f"case{i:02d}-{iw}x{ih}-to-{ow}x{oh}"
        np.save(os.path.join(d, stem + ".in.npy"), src)
        np.save(os.path.join(d, stem + ".out.npy"), dst)
        out.append({"in": f"resize/{stem}.in.npy", "out": f"resize/{stem}.out.npy", "width": ow, "height": oh})
    return out


def crop_table():
    rows = []
    for crop in (224, 160, 7):
        for size in list(range(1, 12)) + list(range(150, 340)):
            x, _, length, _ = center_crop_box(size, size, crop, crop)
            rows.append([size, crop, x, length])
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    out = args.out
    if os.path.isdir(out):
        shutil.rmtree(out)
    for sub in ("demo", "synthetic", "corrupt", "resize"):
        os.makedirs(os.path.join(out, sub))

    for name in sorted(os.listdir(DEMO_SRC)):
        shutil.copyfile(os.path.join(DEMO_SRC, name), os.path.join(out, "demo", name))
    synthetic_notes = make_synthetic(os.path.join(out, "synthetic"))

    images = []
    for name in sorted(os.listdir(os.path.join(out, "demo"))):
        images.append(expected_for(out, "demo/" + name, "demo photo", save_decoded=False))
    for name in sorted(synthetic_notes):
        images.append(expected_for(out, "synthetic/" + name, synthetic_notes[name], save_decoded=True))

    expected = {
        "generator": "tools/reference/make_image_fixtures.py",
        "versions": {"opencv": cv2.__version__, "pillow": Image.__version__, "numpy": np.__version__},
        "pipeline": {"resizeEdge": RESIZE_EDGE, "crop": CROP, "mean": MEAN.tolist(), "std": STD.tolist()},
        "images": images,
        "corrupt": make_corrupt(os.path.join(out, "corrupt"), os.path.join(out, "synthetic")),
        "otherConfigs": other_config_tensors(out),
        "resize": make_resize_cases(os.path.join(out, "resize")),
        "cropTable": {"columns": ["size", "crop", "offset", "length"], "rows": crop_table()},
    }
    with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(out) for f in fs)
    print(f"{len(images)} images, {len(expected['resize'])} resize cases, "
          f"{len(expected['corrupt'])} corrupt files; {total / 1e6:.2f} MB in {os.path.relpath(out, REPO)}")


if __name__ == "__main__":
    main()
