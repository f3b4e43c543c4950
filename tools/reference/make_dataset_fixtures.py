#!/usr/bin/python3
"""Reference fixtures for dataset evaluation and image prediction, produced by PyTorch, OpenCV and Pillow.

Writes Res2Net.Tests/Fixtures/dataset/, which the C# tests in Res2Net.Tests/Datasets, Res2Net.Tests/Inference and
Res2Net.Tests/Cli compare against:

  val/                 300 small generated images (JPEG: baseline, progressive, grey; PNG: RGB, grey, RGBA,
                       palette; a few BMP and WebP), 36 to 150 pixels a side, some in sub-folders, one with a
                       space in its name: mmpretrain's ImageNet layout (data_prefix) ...
  meta/val.txt         ... and its annotation file, one "relative/path label" line per image
  val.logits.npy       PyTorch's logits of tiny-plain for those images, [300, 10] float32, in val.txt order
  val.first.<stem|layer1..layer4>.npy
                       the first image's feature maps (extract_feat), [1, C, H, W]
  folder/<class>/      the ImageFolder layout: 10 class folders whose names sort differently under ordinal and
                       culture-aware comparison ("Zebra" before "apple", "b-c" before "bb"), 60 more images,
                       one nested sub-folder, upper-case extensions, a text file that must be ignored, and two
                       corrupt JPEGs that must be reported and skipped
  folder.logits.npy    PyTorch's logits for the folder's valid images, [60, 10], in expected.json's order
  seeded-demo.txt      an annotation file over the four demo photos (Fixtures/images/demo/) for the seed network
                       res2net50-w14-s8 with its deterministic seeded weights (docs/seeded-weights.md)
  seeded-demo.logits.npy  PyTorch's logits of that network on the four photos, [4, 1000]
  seeded-demo.bird.<stem|layer1..layer4>.sample.npy
                       bird.JPEG's feature maps under the same network, flattened and sampled at
                       np.arange(4096) * (numel // 4096)
  expected.json        the pipelines, per image the label, PyTorch's top-5 labels and softmax scores and the
                       smallest gap between consecutive top logits, and the top-1/top-5 accuracy of each set

Every image goes through mmpretrain's test pipeline exactly as make_image_fixtures.py runs it: cv2.imread
(IMREAD_COLOR), ResizeEdge on the short side with Pillow BILINEAR, mmcv's CenterCrop, (x - mean) / std; then the
PyTorch module of make_fixtures.py (mmpretrain's Res2Net, same state-dict keys) loaded from the committed
Fixtures/tiny-plain.pth, in eval mode, float32, one thread.

Labels: a label drawn uniformly would make top-1 about 10 % whatever the network computes, so each label is drawn
by PyTorch's rank of it instead (rank 0 with probability 0.45, ranks 1-4: 0.30, ranks 5-9: 0.25). Both accuracies
then sit well inside (0, 100), and a wrong crop, channel order or class mapping shows up as a different count.

Exact comparison: the C# tests require the same number of correct images as PyTorch, not a tolerance. That is
sound only if no image's decision can flip under the logit error the forward pass is allowed (2e-3). So the script
asserts, for every image, that each gap between consecutive logits among the top 6 (the ones top-1 and top-5
membership and the top-5 order depend on) exceeds MIN_GAP = 1e-2; a generated image that fails is replaced by
another drawn from the next seed. (For the seeded demo photos, which cannot be redrawn, the gaps are only checked.)

The test suite never runs Python. Re-run this script (deterministic on a given machine) only when the fixture set,
the tiny-plain network or its checkpoint changes:

    /usr/bin/python3 tools/reference/make_dataset_fixtures.py

Needs Debian's python3-torch (1.13), python3-pil (9.4), python3-numpy and python3-opencv (4.6).
"""

import argparse
import collections
import io
import json
import os
import shutil
import sys

import cv2
import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf          # noqa: E402  the PyTorch Res2Net and the seeded weight rule
import make_image_fixtures as mif   # noqa: E402  the cv2 + Pillow preprocessing

REPO = mf.REPO
FIXTURES = os.path.join(REPO, "Res2Net.Tests", "Fixtures")
DEFAULT_OUT = os.path.join(FIXTURES, "dataset")
DEMO_SRC = os.path.join(REPO, "data", "images")

MIN_GAP = 1e-2
TOPK = 5
VAL_COUNT = 300
FOLDER_COUNT = 60
FOLDER_CLASSES = ["kiwi", "bb", "apple", "Zebra", "cherry", "b-c", "date", "grape", "elder", "fig"]  # sorted below
SEEDED_MODEL = "res2net50-w14-s8_3rdparty_8xb32_in1k"
# Rank (in the seeded network's PyTorch ranking) of each demo photo's label: two top-1 hits, one more top-5 hit.
SEEDED_RANKS = {"bird.JPEG": 0, "cat-dog.png": 2, "demo.JPEG": 6, "dog.jpg": 0}


# --------------------------------------------------------------------------
# Pipeline and network
# --------------------------------------------------------------------------


def pipeline_of(spec):
    """The generator's defaults (Res2NetGenerator.Parser): resize edge max(short * 256 // 224, long), ImageNet mean/std."""
    h, w = spec["input_size"]
    pre = spec.get("preprocess", {})
    return {
        "resizeEdge": pre.get("resize_edge", max(min(h, w) * 256 // 224, max(h, w))),
        "cropHeight": h, "cropWidth": w,
        "mean": pre.get("mean", mif.MEAN.tolist()), "std": pre.get("std", mif.STD.tolist()),
    }


def preprocess(path, pipe):
    """mmpretrain's test pipeline; None where cv2.imread cannot read the file."""
    rgb = mif.cv2_decode_rgb(path)
    if rgb is None:
        return None
    h, w = rgb.shape[:2]
    nw, nh = mif.resize_edge_size(w, h, pipe["resizeEdge"])
    resized = mif.pil_resize(rgb, nw, nh)
    x, y, cw, ch = mif.center_crop_box(nw, nh, pipe["cropWidth"], pipe["cropHeight"])
    assert (cw, ch) == (pipe["cropWidth"], pipe["cropHeight"]), path
    return mif.normalize_chw(resized[y:y + ch, x:x + cw], pipe["mean"], pipe["std"])


def load_tiny_plain():
    spec = mf.load_spec(os.path.join(mf.TINY_SPECS, "tiny-plain.json"))
    model = mf.build(spec)
    ckpt = torch.load(os.path.join(FIXTURES, "tiny-plain.pth"), map_location="cpu")
    model.load_state_dict(ckpt["state_dict"], strict=True)
    model.eval()
    return spec, model


def forward(model, tensor):
    with torch.no_grad():
        return model(torch.from_numpy(tensor[None]))


def gaps(logits, n=TOPK + 1):
    s = np.sort(logits.astype(np.float64))[::-1][:n]
    return s[:-1] - s[1:]


def softmax(logits):
    return torch.softmax(torch.from_numpy(np.asarray(logits, np.float32)), dim=-1).numpy()


def topk(logits, k=TOPK):
    order = np.argsort(-logits.astype(np.float64), kind="stable")
    return [int(i) for i in order[:k]]


# --------------------------------------------------------------------------
# Generated images
# --------------------------------------------------------------------------


def picture(w, h, rng, noise):
    """A gradient under random ellipses and bars: varied enough that the random network ranks classes differently
    from image to image, smooth enough to compress to a few KB."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = (x * rng.uniform(-1, 1) + y * rng.uniform(-1, 1)) / max(w, h)
    t = (t - t.min()) / max(t.max() - t.min(), 1e-9)
    img = c0[None, None] * (1 - t[..., None]) + c1[None, None] * t[..., None]
    for _ in range(rng.integers(1, 5)):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        rx, ry = rng.uniform(3, w / 2), rng.uniform(3, h / 2)
        img[((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1] = rng.integers(0, 256, 3)
    if rng.random() < 0.5:
        x0 = rng.integers(0, w)
        img[:, x0:x0 + rng.integers(2, max(3, w // 6))] = rng.integers(0, 256, 3)
    img += rng.normal(0, noise, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


# (extension, weight): mostly JPEG and PNG, as in real datasets.
FORMATS = [("jpg", 30), ("JPEG", 20), ("jpeg", 5), ("progressive.jpg", 8), ("grey.jpg", 6),
           ("png", 12), ("grey.png", 5), ("rgba.png", 5), ("palette.png", 5), ("bmp", 2), ("webp", 2)]


def make_image(seed):
    """(bytes, extension) of one generated image."""
    rng = np.random.default_rng(seed)
    names, weights = zip(*FORMATS)
    kind = names[rng.choice(len(names), p=np.array(weights) / sum(weights))]
    small = kind == "bmp"
    w = int(rng.integers(36, 70 if small else 150))
    h = int(rng.integers(36, 70 if small else 150))
    jpeg = kind in ("jpg", "JPEG", "jpeg", "progressive.jpg", "grey.jpg")
    img = picture(w, h, rng, noise=4 if jpeg or kind == "webp" else 0)
    b = io.BytesIO()
    if jpeg:
        arr = img[..., int(rng.integers(0, 3))] if kind == "grey.jpg" else img
        Image.fromarray(arr).save(b, "JPEG", quality=int(rng.integers(60, 92)), progressive=kind == "progressive.jpg",
                                  subsampling=int(rng.choice([0, 1, 2])) if kind != "grey.jpg" else 0)
        ext = kind.split(".")[-1]
    elif kind == "grey.png":
        Image.fromarray(img[..., 1]).save(b, "PNG", optimize=True)
        ext = "png"
    elif kind == "rgba.png":
        alpha = rng.integers(0, 256, (h, w), dtype=np.uint8)
        Image.fromarray(np.dstack([img, alpha]), "RGBA").save(b, "PNG", optimize=True)
        ext = "png"
    elif kind == "palette.png":
        Image.fromarray(img).quantize(colors=int(rng.integers(8, 64))).save(b, "PNG", optimize=True)
        ext = "png"
    elif kind == "png":
        Image.fromarray(img).save(b, "PNG", optimize=True)
        ext = "png"
    elif kind == "bmp":
        Image.fromarray(img).save(b, "BMP")
        ext = "bmp"
    else:
        Image.fromarray(img).save(b, "WEBP", quality=int(rng.integers(50, 90)))
        ext = "webp"
    return b.getvalue(), ext


def decisive_image(model, pipe, seed, tmp):
    """Draws images from seed, seed+1, ... until one's top-6 logit gaps all exceed MIN_GAP.
    Returns (seed used, bytes, extension, logits)."""
    while True:
        data, ext = make_image(seed)
        with open(tmp, "wb") as f:
            f.write(data)
        tensor = preprocess(tmp, pipe)
        assert tensor is not None, seed
        logits = forward(model, tensor)["logits"].numpy()[0]
        if gaps(logits).min() > MIN_GAP:
            return seed, data, ext, logits
        seed += 100_000


def label_by_rank(logits, rng):
    r = rng.random()
    rank = 0 if r < 0.45 else int(rng.integers(1, 5)) if r < 0.75 else int(rng.integers(5, len(logits)))
    return topk(logits, len(logits))[rank]


def entry(rel, label, logits):
    p = softmax(logits)
    top = topk(logits)
    return collections.OrderedDict([
        ("file", rel), ("label", int(label)),
        ("topk", top), ("scores", [float(p[i]) for i in top]),
        ("minGap", float(gaps(logits).min())),
    ])


def accuracy(entries):
    n = len(entries)
    c1 = sum(e["label"] in e["topk"][:1] for e in entries)
    c5 = sum(e["label"] in e["topk"][:5] for e in entries)
    return collections.OrderedDict([
        ("count", n), ("top1Correct", c1), ("top5Correct", c5),
        ("top1", round(100.0 * c1 / n, 4)), ("top5", round(100.0 * c5 / n, 4)),
    ])


# --------------------------------------------------------------------------
# Sets
# --------------------------------------------------------------------------


def make_val(out, model, pipe, tmp):
    """300 images in mmpretrain's ImageNet layout: val/ + meta/val.txt."""
    rng = np.random.default_rng(7)
    entries, logits_all, lines = [], [], []
    for i in range(VAL_COUNT):
        _, data, ext, logits = decisive_image(model, pipe, 1000 + i, tmp)
        sub = "" if i % 5 else ("n%02d/" % (i % 3))      # some in sub-folders
        name = "ILSVRC2012_val_%08d.%s" % (i + 1, ext)
        if i == 17:
            name = "with space %d.%s" % (i, ext)           # mmpretrain splits the line at its last space
        rel = sub + name
        os.makedirs(os.path.dirname(os.path.join(out, "val", rel)), exist_ok=True)
        with open(os.path.join(out, "val", rel), "wb") as f:
            f.write(data)
        label = label_by_rank(logits, rng)
        entries.append(entry(rel, label, logits))
        logits_all.append(logits)
        lines.append("%s %d" % (rel, label))
    os.makedirs(os.path.join(out, "meta"))
    with open(os.path.join(out, "meta", "val.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    mf.save_npy(os.path.join(out, "val.logits.npy"), np.stack(logits_all))
    return entries


def make_folder(out, model, pipe, tmp):
    """The ImageFolder layout, with two corrupt JPEGs and a non-image file."""
    classes = sorted(FOLDER_CLASSES)           # torchvision: sorted(entry.name ...), i.e. by code point
    assert classes[:4] == ["Zebra", "apple", "b-c", "bb"], classes
    root = os.path.join(out, "folder")
    for c in FOLDER_CLASSES:
        os.makedirs(os.path.join(root, c))
    rng = np.random.default_rng(8)
    entries, logits_all = [], []
    for i in range(FOLDER_COUNT):
        _, data, ext, logits = decisive_image(model, pipe, 5000 + i, tmp)
        label = label_by_rank(logits, rng)
        ext = {"jpg": "JPG", "png": "PNG"}.get(ext, ext) if i % 7 == 3 else ext   # torchvision ignores case
        sub = "nested/" if i % 11 == 5 else ""                                       # and walks sub-folders
        rel = "%s/%simg_%03d.%s" % (classes[label], sub, i, ext)
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "wb") as f:
            f.write(data)
        entries.append(entry(rel, label, logits))
        logits_all.append(logits)
    # torchvision's order: classes in sorted order, then sorted(os.walk(class_dir)), files sorted within each folder.
    order = []
    for c in classes:
        for dirpath, _, files in sorted(os.walk(os.path.join(root, c))):
            for fn in sorted(files):
                order.append(os.path.relpath(os.path.join(dirpath, fn), root).replace(os.sep, "/"))
    index = {e["file"]: k for k, e in enumerate(entries)}
    entries = [entries[index[r]] for r in order]
    logits_all = [logits_all[index[r]] for r in order]

    with open(os.path.join(root, "cherry", "README.txt"), "w", encoding="utf-8") as f:
        f.write("not an image: ImageFolder only takes image extensions\n")
    good = io.BytesIO()
    Image.fromarray(picture(120, 90, np.random.default_rng(78), 4)).save(good, "JPEG", quality=85)
    good = good.getvalue()
    corrupt = collections.OrderedDict()
    corrupt["apple/truncated.jpg"] = (good[: len(good) // 2],
                                      "cut in the middle of the scan: cv2.imread returns a half-grey image (mmpretrain "
                                      "would classify it); our decoder refuses it")
    corrupt["kiwi/broken-header.jpeg"] = (good[:2] + b"\xff\xc0\x00\x02" + good[40:200],
                                          "mangled header: cv2.imread returns None")
    for rel, (bytes_, note) in corrupt.items():
        with open(os.path.join(root, rel), "wb") as f:
            f.write(bytes_)
        decoded = cv2.imread(os.path.join(root, rel), cv2.IMREAD_COLOR)
        corrupt[rel] = {"note": note, "cv2": "None" if decoded is None else "decodes to %s" % (decoded.shape,)}
    mf.save_npy(os.path.join(out, "folder.logits.npy"), np.stack(logits_all))
    return classes, entries, corrupt


def make_seeded(out):
    """The seed network with its seeded weights on the demo photos (224 pipeline)."""
    spec = mf.load_spec(os.path.join(mf.SEED_SPECS, SEEDED_MODEL.split("_")[0] + ".json"))
    assert spec["name"] == SEEDED_MODEL, spec["name"]
    pipe = pipeline_of(spec)
    assert pipe["resizeEdge"] == 256 and pipe["cropHeight"] == pipe["cropWidth"] == 224, pipe
    model = mf.build(spec)
    model.load_state_dict(mf.seeded_state_dict(model), strict=True)
    model.eval()
    entries, logits_all, lines = [], [], []
    for name in sorted(SEEDED_RANKS):
        tensor = preprocess(os.path.join(DEMO_SRC, name), pipe)
        outs = forward(model, tensor)
        logits = outs["logits"].numpy()[0]
        assert gaps(logits).min() > MIN_GAP, (name, gaps(logits))
        label = topk(logits, len(logits))[SEEDED_RANKS[name]]
        entries.append(entry(name, label, logits))
        logits_all.append(logits)
        lines.append("%s %d" % (name, label))
        if name == "bird.JPEG":
            for key in ["stem"] + ["stage%d" % k for k in range(1, 5)]:
                a = outs[key].numpy().reshape(-1)
                idx = np.arange(mf.SAMPLE_COUNT) * (a.size // mf.SAMPLE_COUNT)
                stage = "stem" if key == "stem" else "layer" + key[-1]
                mf.save_npy(os.path.join(out, "seeded-demo.bird.%s.sample.npy" % stage), a[idx])
    with open(os.path.join(out, "seeded-demo.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    mf.save_npy(os.path.join(out, "seeded-demo.logits.npy"), np.stack(logits_all))
    return pipe, entries


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = os.path.abspath(args.out)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    tmp = os.path.join(out, ".candidate")

    spec, model = load_tiny_plain()
    pipe = pipeline_of(spec)
    assert pipe["resizeEdge"] == 48 and (pipe["cropHeight"], pipe["cropWidth"]) == (48, 40), pipe

    val = make_val(out, model, pipe, tmp)
    first = forward(model, preprocess(os.path.join(out, "val", val[0]["file"]), pipe))
    for key in ["stem"] + ["stage%d" % k for k in range(1, 5)]:
        stage = "stem" if key == "stem" else "layer" + key[-1]
        mf.save_npy(os.path.join(out, "val.first.%s.npy" % stage), first[key].numpy())
    classes, folder, corrupt = make_folder(out, model, pipe, tmp)
    os.remove(tmp)
    seeded_pipe, seeded = make_seeded(out)

    expected = collections.OrderedDict([
        ("generator", "tools/reference/make_dataset_fixtures.py"),
        ("versions", {"torch": torch.__version__, "opencv": cv2.__version__, "pillow": Image.__version__,
                      "numpy": np.__version__}),
        ("minGap", MIN_GAP),
        ("model", "tiny-plain"), ("checkpoint", "tiny-plain.pth"),
        ("classNames", spec["class_names"]),
        ("pipeline", pipe),
        ("val", collections.OrderedDict([
            ("data", "val"), ("annFile", "meta/val.txt"), ("logits", "val.logits.npy"),
            ("features", "val.first.{stem,layer1,layer2,layer3,layer4}.npy: the first image's feature maps, [1, C, H, W]"),
            ("accuracy", accuracy(val)), ("images", val)])),
        ("folder", collections.OrderedDict([
            ("data", "folder"), ("classes", classes), ("logits", "folder.logits.npy"),
            ("accuracy", accuracy(folder)), ("corrupt", corrupt), ("ignored", ["cherry/README.txt"]),
            ("images", folder)])),
        ("seeded", collections.OrderedDict([
            ("model", SEEDED_MODEL), ("data", "../images/demo"), ("annFile", "seeded-demo.txt"),
            ("logits", "seeded-demo.logits.npy"), ("pipeline", seeded_pipe),
            ("features", {"image": "bird.JPEG", "sample": mf.SAMPLE_COUNT,
                          "files": "seeded-demo.bird.{stem,layer1,layer2,layer3,layer4}.sample.npy"}),
            ("accuracy", accuracy(seeded)), ("images", seeded)])),
    ])
    with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(out) for f in fs)
    print("val: %d images, top1 %.4f top5 %.4f, min gap %.4f" % (
        len(val), expected["val"]["accuracy"]["top1"], expected["val"]["accuracy"]["top5"], min(e["minGap"] for e in val)))
    print("folder: %d images + %d corrupt, top1 %.4f top5 %.4f" % (
        len(folder), len(corrupt), expected["folder"]["accuracy"]["top1"], expected["folder"]["accuracy"]["top5"]))
    print("seeded %s on the demo photos: top1 %.4f top5 %.4f, min gap %.4f" % (
        SEEDED_MODEL, expected["seeded"]["accuracy"]["top1"], expected["seeded"]["accuracy"]["top5"],
        min(e["minGap"] for e in seeded)))
    print("%.2f MB in %s" % (total / 1e6, os.path.relpath(out, REPO)))


if __name__ == "__main__":
    main()
