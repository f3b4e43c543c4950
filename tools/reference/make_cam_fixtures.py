#!/usr/bin/python3
"""Reference class activation maps (Zhou et al. 2016) computed by PyTorch, for Res2Net.Tests/Inference/ClassActivationMapTests.cs.

Writes Res2Net.Tests/Fixtures/cam/:

  seeded-demo.cam.npy   float32 [N, 7, 7]: CAM_c = sum_k fc.weight[c, k] * layer4[k] for each (photo, class) row of
                        seeded-demo.cam.json, computed in float64 from PyTorch's float32 layer4 and fc weight and
                        rounded once to float32
  seeded-demo.cam.json  per row: the photo (Fixtures/images/demo/) and the class; per photo PyTorch's predicted class
  upsample.npz          `map`, the first map above clipped at 0 and min-max scaled to [0, 1] as pytorch-grad-cam's
                        scale_cam_image does, and `resized`, OpenCV's cv2.resize of it to 23 x 13 (width x height) with
                        INTER_LINEAR, the bilinear upsampling vis_cam.py shows maps with (a small, odd size: every
                        interpolation weight and both clamped edges occur, and the file stays 2 KB)

The network is the seed res2net50-w14-s8 with its deterministic seeded weights (docs/seeded-weights.md), the module of
make_fixtures.py (mmpretrain's Res2Net, same state-dict keys), in eval mode, float32, one thread; the photos go
through mmpretrain's test pipeline exactly as make_dataset_fixtures.py runs it. The classes per photo are its top-1
(what `res2net cam` maps by default), its rank-2 class, and class 0 (one the network does not favour).

The test suite never runs Python. Re-run (byte-stable on one machine) when the network, the seeded rule or the
pipeline changes:

    /usr/bin/python3 tools/reference/make_cam_fixtures.py
"""

import collections
import json
import os
import sys

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf              # noqa: E402  the PyTorch Res2Net and the seeded weight rule
import make_dataset_fixtures as mdf     # noqa: E402  the test pipeline (cv2 decode, Pillow resize, crop, normalize)

OUT = os.path.join(mf.REPO, "Res2Net.Tests", "Fixtures", "cam")
PHOTOS = ["bird.JPEG", "dog.jpg"]


def main():
    torch.set_num_threads(1)
    spec = mf.load_spec(os.path.join(mf.SEED_SPECS, mdf.SEEDED_MODEL.split("_")[0] + ".json"))
    pipe = mdf.pipeline_of(spec)
    model = mf.build(spec)
    model.load_state_dict(mf.seeded_state_dict(model), strict=True)
    model.eval()
    fc = model.head.fc.weight.detach().numpy().astype(np.float64)      # [1000, 2048]

    maps, rows, photos = [], [], collections.OrderedDict()
    for name in PHOTOS:
        tensor = mdf.preprocess(os.path.join(mdf.DEMO_SRC, name), pipe)
        outs = mdf.forward(model, tensor)
        layer4 = outs["stage4"].numpy()[0].astype(np.float64)          # [2048, 7, 7]
        logits = outs["logits"].numpy()[0]
        ranked = np.argsort(-logits, kind="stable")
        photos[name] = {"pred_label": int(ranked[0])}
        for label in [int(ranked[0]), int(ranked[1]), 0]:
            cam = np.tensordot(fc[label], layer4, axes=1)                 # sum over channels k
            # The defining property: the map's mean plus the bias is the logit (global average pooling is linear).
            bias = float(model.head.fc.bias[label])
            assert abs(cam.mean() + bias - float(logits[label])) < 1e-3, (name, label)
            maps.append(cam.astype(np.float32))
            rows.append(collections.OrderedDict([("file", name), ("label", label)]))
    os.makedirs(OUT, exist_ok=True)
    mf.save_npy(os.path.join(OUT, "seeded-demo.cam.npy"), np.stack(maps))
    with open(os.path.join(OUT, "seeded-demo.cam.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(collections.OrderedDict([("model", mdf.SEEDED_MODEL), ("photos", photos), ("rows", rows)]), f, indent=2)
        f.write("\n")
    relu = np.maximum(maps[0], 0)
    scaled = ((relu - relu.min()) / (relu.max() - relu.min())).astype(np.float32)
    resized = cv2.resize(scaled, (23, 13), interpolation=cv2.INTER_LINEAR)
    mf.save_npz(os.path.join(OUT, "upsample.npz"), collections.OrderedDict([("map", scaled), ("resized", resized)]))
    for r, m in zip(rows, maps):
        print("%-10s class %4d  CAM range [%.3f, %.3f]" % (r["file"], r["label"], m.min(), m.max()))


if __name__ == "__main__":
    main()
