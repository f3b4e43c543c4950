#!/usr/bin/python3
"""Reference scores for flip test-time augmentation (mmpretrain's `tools/test.py --tta`), produced by PyTorch.

mmpretrain's --tta replaces the last transform of the test pipeline (PackInputs) with
TestTimeAug([[RandomFlip(prob=1.), RandomFlip(prob=0.)], [PackInputs]]): each image goes through LoadImageFromFile,
ResizeEdge and CenterCrop once, and the *crop* is then taken as is and mirrored left to right. The model is
AverageClsScoreTTA: each view is classified (ClsHead.predict: softmax of the logits) and the scores are averaged,
sum(scores) / 2, in float32; top-1 and top-5 come from the averaged scores.

Writes, beside the fixtures of make_dataset_fixtures.py (Res2Net.Tests/Fixtures/dataset/):

  val.tta.scores.npy          tiny-plain on the 300 images of meta/val.txt: averaged softmax scores, [300, 10] float32
  seeded-demo.tta.scores.npy  res2net50-w14-s8 with its seeded weights on the four demo photos, [4, 1000] float32
  tta.json                    per set: top-1/top-5 accuracy under TTA and without, per image the top-5 labels of the
                              averaged scores, and whether that ranking is decisive (see below)

Decisive: the C# forward may differ from PyTorch's by e = 2e-3 per logit (Res2Net.Tests/Forward/Tolerances.cs). That
moves a softmax score p by at most a factor exp(+-2e), so by at most m * p with m = exp(2e) - 1 (about 4.0e-3), and
the average of two views' scores by at most m times the average (the same bound the C# tests use for one view). Two
neighbouring averaged scores a > b keep their order if a - b > m * (a + b). Top-1, top-5 and their order are
compared exactly only where all of the top 6 are so separated ("decisive"); an image's contribution to the top-1 and
top-5 counts is beyond doubt where its label's score is so separated from the scores across the 1/2 and 5/6
boundaries ("countDecided"); the top-1 and top-5 counts are compared exactly over those images. The four demo
photos must all be both (asserted): the CLI test compares their accuracy and rankings exactly.

Run after make_dataset_fixtures.py (it reads the images and annotation files that script wrote):

    /usr/bin/python3 tools/reference/make_tta_fixtures.py

Needs Debian's python3-torch (1.13), python3-pil (9.4), python3-numpy and python3-opencv (4.6).
"""

import collections
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_dataset_fixtures as mdf  # noqa: E402  the pipeline, tiny-plain and the seeded network
import make_fixtures as mf           # noqa: E402

OUT = mdf.DEFAULT_OUT
LOGIT_ERROR = 2e-3   # Tolerances.LogitsAbsolute
MARGIN = np.expm1(2 * LOGIT_ERROR)   # the relative error a score may have (ImageClassifierTests.ScoreTolerance)


def tta_scores(model, crop):
    """AverageClsScoreTTA over [flipped crop, crop]: one batch of two, softmax per view, sum / 2 in float32."""
    views = np.stack([crop[:, :, ::-1], crop]).copy()           # RandomFlip(prob=1.) first, as mmpretrain lists it
    with torch.no_grad():
        scores = torch.softmax(model(torch.from_numpy(views))["logits"], dim=-1)
    merged = sum(scores[i] for i in range(2)) / 2
    return merged.numpy().astype(np.float32), scores[1].numpy()


def decisive(scores, n=mdf.TOPK + 1):
    s = np.sort(scores.astype(np.float64))[::-1][:n]
    return bool(np.all(s[:-1] - s[1:] > MARGIN * (s[:-1] + s[1:])))


def separated(a, b):
    return abs(a - b) > MARGIN * (a + b)


def counts_decided(scores, label):
    """True when whether the label is top-1, and whether it is in the top 5, cannot change under the logit error:
    the label's score is separated from the score across each of the two boundaries."""
    order = mdf.topk(scores, len(scores))
    rank = order.index(label)
    s = scores.astype(np.float64)
    first = separated(s[label], s[order[1]] if rank == 0 else s[order[0]])
    fifth = separated(s[label], s[order[mdf.TOPK]] if rank < mdf.TOPK else s[order[mdf.TOPK - 1]])
    return bool(first and fifth)


def run(model, pipe, root, ann):
    rows, merged_all, plain = [], [], []
    with open(ann, encoding="utf-8") as f:
        lines = [l.rsplit(" ", 1) for l in f.read().splitlines() if l]
    for rel, label in lines:
        crop = mdf.preprocess(os.path.join(root, rel), pipe)
        merged, original = tta_scores(model, crop)
        merged_all.append(merged)
        plain.append({"label": int(label), "topk": mdf.topk(original)})
        rows.append(collections.OrderedDict([
            ("file", rel), ("label", int(label)), ("topk", mdf.topk(merged)), ("decisive", decisive(merged)),
            ("countDecided", counts_decided(merged, int(label)))]))
    return np.stack(merged_all), rows, mdf.accuracy(plain)


def main():
    torch.set_num_threads(1)
    spec, tiny = mdf.load_tiny_plain()
    val_scores, val, val_plain = run(tiny, mdf.pipeline_of(spec), os.path.join(OUT, "val"), os.path.join(OUT, "meta", "val.txt"))

    seed_spec = mf.load_spec(os.path.join(mf.SEED_SPECS, mdf.SEEDED_MODEL.split("_")[0] + ".json"))
    seeded = mf.build(seed_spec)
    seeded.load_state_dict(mf.seeded_state_dict(seeded), strict=True)
    seeded.eval()
    demo_scores, demo, demo_plain = run(seeded, mdf.pipeline_of(seed_spec), mdf.DEMO_SRC, os.path.join(OUT, "seeded-demo.txt"))

    assert all(r["countDecided"] and r["decisive"] for r in demo), demo   # the CLI test compares these exactly
    mf.save_npy(os.path.join(OUT, "val.tta.scores.npy"), val_scores)
    mf.save_npy(os.path.join(OUT, "seeded-demo.tta.scores.npy"), demo_scores)
    doc = collections.OrderedDict([
        ("generator", "tools/reference/make_tta_fixtures.py"),
        ("versions", {"torch": torch.__version__, "numpy": np.__version__}),
        ("tta", "flip: AverageClsScoreTTA over [RandomFlip(prob=1.), RandomFlip(prob=0.)] after CenterCrop"),
        ("logitError", LOGIT_ERROR),
        ("val", collections.OrderedDict([
            ("model", "tiny-plain"), ("annFile", "meta/val.txt"), ("scores", "val.tta.scores.npy"),
            ("accuracy", mdf.accuracy(val)), ("accuracyWithoutTta", val_plain), ("images", val)])),
        ("seeded", collections.OrderedDict([
            ("model", mdf.SEEDED_MODEL), ("annFile", "seeded-demo.txt"), ("scores", "seeded-demo.tta.scores.npy"),
            ("accuracy", mdf.accuracy(demo)), ("accuracyWithoutTta", demo_plain), ("images", demo)])),
    ])
    with open(os.path.join(OUT, "tta.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    for key in ("val", "seeded"):
        d = doc[key]
        print("%s: tta top1 %.4f top5 %.4f (without %.4f %.4f); %d of %d decisive, %d counted beyond doubt" % (
            key, d["accuracy"]["top1"], d["accuracy"]["top5"], d["accuracyWithoutTta"]["top1"], d["accuracyWithoutTta"]["top5"],
            sum(r["decisive"] for r in d["images"]), len(d["images"]), sum(r["countDecided"] for r in d["images"])))


if __name__ == "__main__":
    main()
