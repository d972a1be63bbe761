"""Pre-annotation: throughput against a bare ultralytics loop, and what a reviewer only confirms vs has to change.

1. Throughput: the same YOLO (yolov8n built from its config, trained offline on generated shapes) over the same
   500 generated 96x96 images, batches of 16: `PreAnnotator.predict` (our loading, threshold split, result type)
   vs a bare `model.predict(paths)` loop over the same batches. Median of 3; overhead = ours / bare - 1.
2. Reviewer effort at thresholds 0.5 / 0.7 / 0.9:
   - detection (200 held-out generated images): a box above the threshold that matches a true box (same class,
     IoU >= 0.5) is *confirmed*; one that does not is *changed* (deleted); a true box with no match is *drawn*.
   - digits classification (LogisticRegression on 300 labels, the other 1,497 pre-annotated): a label above the
     threshold that is right is confirmed, wrong is changed; below the threshold the item is labeled from scratch.

    .venv/bin/python bench/pre_annotation.py
"""
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from auto_labeling.pre_annotation import PreAnnotator, make_shapes_dataset, matched_iou, train_yolo_offline

warnings.filterwarnings("ignore")


def main():
    work = Path(tempfile.mkdtemp())
    make_shapes_dataset(work / "train", 192, seed=0)
    make_shapes_dataset(work / "val", 16, seed=1)
    t0 = time.time()
    yolo = train_yolo_offline(work / "train", work / "val", ["red", "blue"], epochs=30, project=work / "runs")
    print(f"YOLO (yolov8n.yaml, no weights downloaded) trained on 192 generated images, 30 epochs: {time.time() - t0:.0f} s")
    bench = make_shapes_dataset(work / "bench", 500, seed=2)
    paths = [a.image for a in bench]
    pre = PreAnnotator(yolo, confidence_threshold=0.5, batch_size=16, classes=["red", "blue"])
    pre.predict(paths[:32], progress=False)                    # warm up both paths
    ours, bare = [], []
    for _ in range(3):
        t = time.perf_counter(); pre.predict(paths, progress=False); ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        for i in range(0, len(paths), 16):
            yolo.predict([str(p) for p in paths[i:i + 16]], conf=0.1, verbose=False, device="cpu")
        bare.append(time.perf_counter() - t)
    o, b = statistics.median(ours), statistics.median(bare)
    print(f"\n1. throughput on 500 images: ours {len(paths) / o:.1f} img/s, bare ultralytics loop {len(paths) / b:.1f} "
          f"img/s -> overhead {100 * (o / b - 1):+.1f}%")

    held = make_shapes_dataset(work / "held", 200, seed=3)
    print("\n2. reviewer effort")
    print(f"{'task':14s} {'threshold':>9s} {'confirm':>8s} {'change':>7s} {'from scratch':>13s} {'confirm share':>14s}")
    for thr in (0.5, 0.7, 0.9):
        p = PreAnnotator(yolo, confidence_threshold=thr, classes=["red", "blue"])
        found = p.predict([a.image for a in held], progress=False)
        tp, fp, miss = (sum(matched_iou(f, t)[k] for f, t in zip(found, held)) for k in range(3))
        total = tp + fp + miss
        print(f"{'detection':14s} {thr:9.1f} {tp:8d} {fp:7d} {miss:13d} {tp / total:14.1%}")
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    X, y = load_digits(return_X_y=True)
    X = X / 16
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    lab, rest = order[:300], order[300:]
    model = LogisticRegression(max_iter=2000).fit(X[lab], y[lab])
    for thr in (0.5, 0.7, 0.9):
        got = PreAnnotator(model, confidence_threshold=thr).predict(X[rest], progress=False)
        sure = np.array([not a.needs_review for a in got])
        right = np.array([a.label == t for a, t in zip(got, y[rest])])
        confirm, change, scratch = int((sure & right).sum()), int((sure & ~right).sum()), int((~sure).sum())
        print(f"{'digits':14s} {thr:9.1f} {confirm:8d} {change:7d} {scratch:13d} {confirm / len(rest):14.1%}")


if __name__ == "__main__":
    main()
