"""Per-call timings of `CVATClient` against a real CVAT 2.23.1, and a 500-image upload.

    make bench-cvat
    # = .venv/bin/python tests/servers.py cvat-run -- .venv/bin/python bench/cvat_calls.py
    .venv/bin/python bench/cvat_calls.py --repeats 5 --n 20 --big 500 --big-repeats 2

The server is the one CVAT_URL/CVAT_USER/CVAT_PASSWORD name (`cvat-run` starts one from ../shared/cvat-server on free
ports and stops it afterwards). Each repeat measures, on a fresh task: connecting (about + login + the user), creating
the task, uploading N images (640x480 JPEG) with two boxes each, exporting COCO and YOLO, pulling the shapes into a
fresh label store, and deleting the task. Then a task of `--big` images with two boxes each is uploaded `--big-repeats`
times. Medians with the range over repeats; server and client share the machine's 2 cores (and with other people's
work), so read ratios, not absolutes. Writes bench/out/cvat_calls.json and prints the markdown table for
bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))


def make_images(folder: Path, n: int, seed: int = 0) -> tuple[list[Path], list]:
    "n 640x480 JPEG images (a gradient, noise and two coloured rectangles) and the two boxes of each as Annotations."
    from auto_labeling.formats import Annotation
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    base = np.linspace(0, 200, 640, dtype=np.float32)[None, :, None].repeat(480, 0).repeat(3, 2)
    paths, boxes = [], []
    for i in range(n):
        img = base + rng.normal(0, 12, base.shape).astype(np.float32)
        rects = []
        for colour in ((230, 40, 40), (40, 40, 230)):
            x, y = int(rng.integers(0, 500)), int(rng.integers(0, 360))
            w, h = int(rng.integers(30, 140)), int(rng.integers(30, 120))
            img[y:y + h, x:x + w] = colour
            rects.append([x, y, min(x + w, 640), min(y + h, 480)])
        p = folder / f"frame_{n - i:05d}.jpg"                    # names in reverse order: upload order must win
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(p, quality=90)
        paths.append(p)
        boxes.append(Annotation(p.name, 640, 480, rects, ["car", "person"], [0.9, 0.8]))
    return paths, boxes


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--n", type=int, default=20, help="images per task in the per-call repeats")
    ap.add_argument("--big", type=int, default=500, help="images in the big upload")
    ap.add_argument("--big-repeats", type=int, default=2)
    args = ap.parse_args(argv)
    from auto_labeling.cvat import CVATClient
    from auto_labeling.store import LabelStore
    from servers import cvat_test_server
    server = cvat_test_server()
    work = Path(tempfile.mkdtemp(prefix="al-bench-cvat-"))
    paths, preds = make_images(work / "small", args.n)
    big_paths, big_preds = make_images(work / "big", args.big, seed=1)
    mb = sum(p.stat().st_size for p in paths) / 2 ** 20
    big_mb = sum(p.stat().st_size for p in big_paths) / 2 ** 20
    rows: dict[str, list[float]] = {}
    try:
        for r in range(args.repeats):
            t, client = timed(lambda: CVATClient(server.url, (server.user, server.password), progress=False,
                                                 status_check_period=0.5))
            rows.setdefault("connect (about, login, who am I)", []).append(t)
            t, task = timed(lambda: client.create_task(f"bench-{uuid.uuid4().hex[:8]}", ["car", "person"]))
            rows.setdefault("create_task", []).append(t)
            t, report = timed(lambda: client.upload_images(task.id, paths, annotations=preds))
            assert report.shapes_added == 2 * args.n and client.frame_names(task.id) == [p.name for p in paths]
            rows.setdefault(f"upload_images: {args.n} images ({mb:.1f} MB) + {2 * args.n} boxes", []).append(t)
            for fmt in ("COCO", "YOLO"):
                t, back = timed(lambda: client.export_annotations(task.id, fmt))
                assert sum(len(a.boxes) for a in back) == 2 * args.n
                rows.setdefault(f"export_annotations({fmt!r}), {args.n} frames", []).append(t)
            store = LabelStore(":memory:")
            t, n = timed(lambda: client.pull_annotations(task.id, store))
            assert n == args.n
            rows.setdefault(f"pull_annotations into a LabelStore, {args.n} frames", []).append(t)
            t, _ = timed(lambda: client.sdk.tasks.remove_by_ids([task.id]))
            rows.setdefault("delete the task", []).append(t)
            client.close()
            print(f"repeat {r + 1}/{args.repeats} done", flush=True)
        client = CVATClient(server.url, (server.user, server.password), progress=False, status_check_period=0.5)
        for r in range(args.big_repeats):
            task = client.create_task(f"bench-big-{uuid.uuid4().hex[:8]}", ["car", "person"])
            t, report = timed(lambda: client.upload_images(task.id, big_paths, annotations=big_preds))
            assert report.shapes_added == 2 * args.big
            assert client.frame_names(task.id) == [p.name for p in big_paths]
            rows.setdefault(f"upload_images: {args.big} images ({big_mb:.0f} MB) + {2 * args.big} boxes", []).append(t)
            t, back = timed(lambda: client.export_annotations(task.id, "COCO"))
            assert [a.image for a in back] == [p.name for p in big_paths]
            rows.setdefault(f"export_annotations('COCO'), {args.big} frames", []).append(t)
            client.sdk.tasks.remove_by_ids([task.id])
            print(f"big upload {r + 1}/{args.big_repeats} done", flush=True)
        client.close()
        version = server.version()
    finally:
        server.stop()
    out = {"server": version, "repeats": args.repeats, "n": args.n, "big": args.big, "big_repeats": args.big_repeats,
           "seconds": rows}
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "cvat_calls.json").write_text(json.dumps(out, indent=1))
    print(f"\nCVAT {version}, medians over {args.repeats} repeats ({args.big_repeats} for the big upload), seconds\n")
    print("| call | median s | min-max s |\n|---|---|---|")
    for name, ts in rows.items():
        print(f"| {name} | {statistics.median(ts):.2f} | {min(ts):.2f}-{max(ts):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
