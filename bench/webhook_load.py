"""Webhook throughput: 2,000 Label Studio annotation deliveries from 8 concurrent senders (10% redeliveries,
5% malformed) into `make_webhook_app` served by uvicorn, storing into an SQLite LabelStore (WAL, synchronous=FULL).
Every valid annotation must be stored exactly once and every bad one answered 4xx; the run checks both.

    .venv/bin/python bench/webhook_load.py [--repeats 3]
"""
import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_webhook import SECRET, payload, send  # noqa: E402  (the same deliveries the load test sends)

from auto_labeling import LabelStore  # noqa: E402
from auto_labeling.label_studio import parse_label_config, text_classification_config  # noqa: E402
from auto_labeling.webhook import WebhookServer, make_webhook_app  # noqa: E402


def run(n=2000, senders=8, seed=0):
    control = parse_label_config(text_classification_config(["ham", "spam"]))[0]
    with tempfile.TemporaryDirectory() as tmp:
        store = LabelStore(f"{tmp}/labels.sqlite", classes=["ham", "spam"])
        server = WebhookServer(make_webhook_app(store, SECRET, control)).start()
        rng = random.Random(seed)
        bodies, kinds, valid = [], [], []
        for i in range(n):
            r = rng.random()
            if r < 0.05:
                bodies.append(b"{not json"); kinds.append("bad")
            elif r < 0.15 and valid:
                bodies.append(json.dumps(payload(rng.choice(valid), "ham")).encode()); kinds.append("dup")
            else:
                valid.append(i); bodies.append(json.dumps(payload(i, "ham")).encode()); kinds.append("ok")
        codes = [None] * n
        t0 = time.perf_counter()
        threads = [threading.Thread(target=lambda k=k: [codes.__setitem__(j, send(server.url + "/webhook", bodies[j]))
                                                        for j in range(k, n, senders)]) for k in range(senders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - t0
        server.stop()
        assert len(store) == len(valid) and all(c == 200 for c, k in zip(codes, kinds) if k != "bad")
        assert all(400 <= c < 500 for c, k in zip(codes, kinds) if k == "bad")
        return seconds, len(valid)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    runs = [run(seed=s) for s in range(a.repeats)]
    secs = statistics.median(s for s, _ in runs)
    print(f"2,000 deliveries, 8 senders: median {secs:.2f} s = {2000 / secs:,.0f} deliveries/s "
          f"({runs[0][1]} valid annotations stored exactly once per run; all bad ones 4xx)")
