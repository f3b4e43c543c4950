#!/usr/bin/python3
"""PyTorch's output for the consumer sample (samples/FlowerClassifier), which the packaging test checks.

The sample's spec, samples/FlowerClassifier/networks/flowers.json, is a Res2Net-50 v1b (deep stem, avg_down, 26w x 4s)
with 5 classes at 128 x 128. This script builds it with make_fixtures.py's PyTorch module, gives it the seeded weights
of docs/seeded-weights.md (the C# test writes the same tensors with SeededWeights), runs the four demo photos
(data/images) through mmpretrain's test pipeline for that input size (ResizeEdge 146 with Pillow BILINEAR after
cv2.imread, CenterCrop 128, ImageNet mean and std; make_dataset_fixtures.py's preprocess) and writes
Res2Net.Tests/Fixtures/sample/:

  flowers.logits.npy   PyTorch's logits, [4, 5] float32, in the order of flowers.json's "images"
  flowers.json         the images, the pipeline, each image's top class and the gap between its two largest logits,
                       and the shape of every extract_feat output (stem, layer1..layer4) for one image

It asserts that the logits are not degenerate (their standard deviation is at least 0.1) and that every image's two
largest logits differ by more than 1e-2, so that the test may compare the predicted class exactly while it allows
2e-3 per logit.

    /usr/bin/python3 tools/reference/make_sample_fixtures.py
    /usr/bin/python3 tools/reference/make_sample_fixtures.py --checkpoint flowers.pth

--checkpoint also saves the seeded network as an mmpretrain checkpoint ({'meta': ..., 'state_dict': ...}, 95 MB, not
committed), so that the sample can be run by hand and its output compared with the logits this script prints.

Needs Debian's python3-torch (1.13), python3-pil (9.4), python3-numpy and python3-opencv (4.6).
"""

import argparse
import collections
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf            # noqa: E402  the PyTorch Res2Net and the seeded weight rule
import make_dataset_fixtures as mdf   # noqa: E402  mmpretrain's test pipeline (cv2 + Pillow)

SPEC = os.path.join(mf.REPO, "samples", "FlowerClassifier", "networks", "flowers.json")
DEFAULT_OUT = os.path.join(mf.REPO, "Res2Net.Tests", "Fixtures", "sample")
IMAGES = ["bird.JPEG", "cat-dog.png", "demo.JPEG", "dog.jpg"]
MIN_GAP = 1e-2


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--checkpoint", metavar="PATH", help="also save the seeded network as an mmpretrain checkpoint")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)

    spec = mf.load_spec(SPEC)
    pipe = mdf.pipeline_of(spec)
    assert (pipe["resizeEdge"], pipe["cropHeight"], pipe["cropWidth"]) == (146, 128, 128), pipe
    model = mf.build(spec)
    state_dict = mf.seeded_state_dict(model)
    model.load_state_dict(state_dict, strict=True)
    model.eval()

    rows, images, shapes = [], [], None
    for name in IMAGES:
        outs = mdf.forward(model, mdf.preprocess(os.path.join(mdf.DEMO_SRC, name), pipe))
        logits = outs["logits"].numpy()[0]
        gap = float(mdf.gaps(logits, 2)[0])
        assert gap > MIN_GAP, (name, logits)
        rows.append(logits)
        top = int(np.argmax(logits))
        images.append(collections.OrderedDict([
            ("file", name), ("label", top), ("class", spec["class_names"][top]), ("gap", gap)]))
        shapes = collections.OrderedDict(
            (("stem" if k == "stem" else "layer" + k[-1]), list(outs[k].shape)) for k in ["stem", "stage1", "stage2", "stage3", "stage4"])
        print("%-12s %s  (%s)" % (name, " ".join("%9.6f" % v for v in logits), spec["class_names"][top]))
    logits = np.stack(rows)
    assert logits.std() >= 0.1, ("degenerate seeded logits", logits)

    mf.save_npy(os.path.join(args.out, "flowers.logits.npy"), logits)
    expected = collections.OrderedDict([
        ("generator", "tools/reference/make_sample_fixtures.py"),
        ("versions", {"torch": torch.__version__, "numpy": np.__version__}),
        ("spec", "samples/FlowerClassifier/networks/flowers.json"),
        ("weights", "seeded (docs/seeded-weights.md)"),
        ("pipeline", pipe),
        ("images", images),
        ("features", shapes),
    ])
    with open(os.path.join(args.out, "flowers.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print("logits std %.4f, smallest top-2 gap %.4f" % (logits.std(), min(i["gap"] for i in images)))

    if args.checkpoint:
        torch.save({"meta": mf.meta_dict(spec), "state_dict": state_dict}, args.checkpoint)
        print("saved %s" % args.checkpoint)


if __name__ == "__main__":
    sys.exit(main())
