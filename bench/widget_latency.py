"""Click-to-next-item latency of the labeling widget, measured programmatically over 500 items.

Two pools: 224x224 RGB images and 500-character texts. The learner is a LogisticRegression on simple features
(8x8 colour thumbnails for the images, hashed character n-grams for the texts); rounds of 50, so the model retrains
in the background nine times during the run. Each click goes through the real button callback: the label is written
to an SQLite LabelStore (WAL, synchronous=FULL) before the next item is rendered (PNG for images, HTML for texts).

    .venv/bin/python bench/widget_latency.py
"""
import tempfile

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from auto_labeling import ActiveLearner, LabelStore
from auto_labeling.widget import LabelingSession


def measure(items, features, labels, classes, tmp, name, model):
    store = LabelStore(f"{tmp}/{name}.sqlite", classes=classes)
    learner = ActiveLearner(model, batch_size=50, random_state=0, store=store)
    session = LabelingSession(learner, features, store, classes=classes, batch_size=50, items=items)
    during_retrain = []
    for _ in range(len(items)):
        pos = session.current
        if pos is None:
            break
        training = session._trainer is not None and session._trainer.is_alive()
        session._buttons[classes.index(labels[pos])].click()
        if training:
            during_retrain.append(session.latencies[-1])
    lat = np.array(session.latencies) * 1000
    bg = np.array(during_retrain) * 1000
    print(f"{name:7s} {len(lat)} clicks: median {np.median(lat):6.1f} ms  p95 {np.percentile(lat, 95):6.1f} ms  "
          f"max {lat.max():6.1f} ms | while a retrain ran ({len(bg)} clicks): median "
          f"{np.median(bg) if len(bg) else float('nan'):6.1f} ms  p95 "
          f"{np.percentile(bg, 95) if len(bg) else float('nan'):6.1f} ms | {len(session.rounds)} rounds")
    return lat


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    n = 500
    classes = ["a", "b", "c"]
    labels = [classes[i % 3] for i in range(n)]
    images = [rng.integers(0, 255, (224, 224, 3), dtype=np.uint8) for _ in range(n)]
    for i, img in enumerate(images):                         # a learnable signal: one channel brighter per class
        img[..., i % 3] = np.clip(img[..., i % 3].astype(int) + 60, 0, 255)
    thumbs = np.stack([img.reshape(8, 28, 8, 28, 3).mean(axis=(1, 3)).ravel() / 255 for img in images])
    words = ["alpha", "beta", "gamma"]
    texts = [" ".join([words[i % 3]] * 5 + [f"w{rng.integers(1000)}" for _ in range(120)])[:500] for i in range(n)]
    hashed = HashingVectorizer(n_features=2 ** 12, analyzer="char_wb", ngram_range=(2, 4)).transform(texts).toarray()
    with tempfile.TemporaryDirectory() as tmp:
        measure(images, thumbs, labels, classes, tmp, "images", MLPClassifier((512, 256), max_iter=400, random_state=0))
        measure(texts, hashed, labels, classes, tmp, "texts", LogisticRegression(max_iter=1000, C=10))
