"""Exports never lose a label: 1,000 images with clashing names through COCO, YOLO, Pascal VOC, JSON and CSV from a
LabelStore and back; image sizes read from the images; CSV quoting and formula escaping; hypothesis round trips."""
import csv
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from auto_labeling import LabelStore
from auto_labeling.formats import export_names, read_coco, read_labels, read_pascal_voc, read_yolo


def clashing_ids() -> list[str]:
    "1,000 image ids whose file names clash: same name in other folders, other letter case, other extension, other separators."
    ids = [f"{folder}/{i:03d}.jpg" for folder in ("train/cat", "train/dog", "train/Cat") for i in range(200)]
    ids += [f"train/cat/{i:03d}.png" for i in range(100)]            # same stem, other extension: same label file
    ids += [f"train\\dog\\{i:03d}.jpg" for i in range(100)]          # Windows separators: the same path once made safe
    ids += [f"{i:03d}.jpg" for i in range(100)]                      # the bare file name
    ids += [f"/abs/train/cat/{i:03d}.jpg" for i in range(100)]       # absolute: written under the export folder
    assert len(ids) == len(set(ids)) == 1000
    return ids


def boxes_for(k: int) -> list[dict]:
    out = [{"bbox": [k % 10, k % 7, k % 10 + 5 + k % 3, k % 7 + 6], "label": "cat" if k % 2 else "dog"}]
    if k % 3 == 0:
        out.append({"bbox": [1, 2, 30, 25], "label": "cat"})
    return out


@pytest.fixture
def box_store(tmp_path):
    ids = clashing_ids()
    store = LabelStore(tmp_path / "boxes.sqlite", classes=["cat", "dog"], unknown_items="register")
    store.add_many(ids, [boxes_for(k) for k in range(len(ids))], who="alice")
    sizes = {item: (50 + k % 7, 40 + k % 5) for k, item in enumerate(ids)}
    return store, ids, sizes


def _by_item(annotations, store):
    "Read-back annotations keyed by the item they came from (names mapped back with export_names)."
    order = [a.image for a in store.annotations()]
    item_of = dict(zip(export_names(order), order))
    assert len(annotations) == len(order)
    return {item_of[a.image]: a for a in annotations}


def _same_boxes(got, ids, tol):
    for k, item in enumerate(ids):
        want = boxes_for(k)
        a = got[item]
        assert a.labels == [b["label"] for b in want], item
        assert np.allclose(a.boxes, [b["bbox"] for b in want], atol=tol), item


def test_every_box_format_keeps_all_1000_clashing_images(box_store, tmp_path):
    store, ids, sizes = box_store
    names = export_names([a.image for a in store.annotations()])
    assert len({n.casefold() for n in names}) == 1000
    # COCO: 1,000 images, 1,000 distinct file names
    coco_path = store.export(tmp_path / "labels.coco.json", format="coco")
    data = json.loads(coco_path.read_text())
    assert len({im["file_name"] for im in data["images"]}) == 1000
    _same_boxes(_by_item(read_coco(coco_path), store), ids, 0)
    pycocotools = pytest.importorskip("pycocotools.coco")
    assert len(pycocotools.COCO(str(coco_path)).imgs) == 1000
    # YOLO: 1,000 label files and 1,000 distinct lines in train.txt
    yolo = store.export(tmp_path / "yolo", format="yolo", image_sizes=sizes)
    assert len(list((yolo / "obj_train_data").rglob("*.txt"))) == 1000
    lines = (yolo / "train.txt").read_text().splitlines()
    assert len(lines) == len(set(lines)) == 1000
    by_name = dict(zip(names, [sizes[a.image] for a in store.annotations()]))
    _same_boxes(_by_item(read_yolo(yolo, by_name), store), ids, 1e-3)
    # Pascal VOC: 1,000 XML files, sizes recorded
    voc = store.export(tmp_path / "voc", format="pascal_voc", image_sizes=sizes)
    assert len(list((voc / "Annotations").rglob("*.xml"))) == 1000
    got = _by_item(read_pascal_voc(voc), store)
    _same_boxes(got, ids, 0)
    assert all((got[item].width, got[item].height) == sizes[item] for item in ids)
    # JSON and CSV tables
    for fmt in ("json", "csv"):
        back = read_labels(store.export(tmp_path / f"labels.{fmt}"))
        assert dict(zip(back["item_id"], back["label"])) == store.labels()


def test_yolo_and_voc_read_image_sizes_from_the_images(box_store, tmp_path):
    "images_root=: each image's size from its file header, for ids that are relative paths (nested, clashing)."
    store, ids, sizes = box_store
    root = tmp_path / "images"
    relative = [i for i in ids if not i.startswith("/")]
    for item in relative:
        (root / item).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", sizes[item]).save(root / item, format="PNG")
    subset = LabelStore(tmp_path / "subset.sqlite", classes=["cat", "dog"], unknown_items="register")
    subset.add_many(relative, [boxes_for(ids.index(i)) for i in relative], who="alice")
    yolo = subset.export(tmp_path / "yolo", format="yolo", images_root=root)
    voc = subset.export(tmp_path / "voc", format="pascal_voc", images_root=root)
    order = [a.image for a in subset.annotations()]
    by_name = {n: sizes[i] for n, i in zip(export_names(order), order)}
    got = _by_item(read_yolo(yolo, by_name), subset)
    assert len(got) == 900
    for item in relative:
        want = boxes_for(ids.index(item))
        assert np.allclose(got[item].boxes, [b["bbox"] for b in want], atol=1e-3)
    assert {(a.width, a.height) for a in read_pascal_voc(voc)} == {sizes[i] for i in relative}
    with pytest.raises(ValueError, match="needs image sizes"):
        subset.export(tmp_path / "yolo2", format="yolo")
    store.add("../../etc/passwd", [{"bbox": [0, 0, 1, 1], "label": "cat"}], who="alice")
    with pytest.raises(ValueError, match="outside images_root"):
        store.export(tmp_path / "yolo3", format="yolo", images_root=root)


def test_a_carriage_return_stays_inside_its_csv_cell(tmp_path):
    "The issue's example: a lone \\r in an item id and an annotator; csv.reader and pandas see 2 labels, not 4 rows."
    s = LabelStore(tmp_path / "x.sqlite", unknown_items="register")
    s.add("item\rwith-CR", "cat", who="alice")
    s.add("plain", "dog", who="bob\rby")
    path = s.export(tmp_path / "x.csv")
    with open(path, newline="") as f:
        assert len(list(csv.reader(f))) == 3                          # header + 2 labels
    assert len(pd.read_csv(path)) == 2
    back = read_labels(path)
    assert dict(zip(back["item_id"], back["who"])) == {"item\rwith-CR": "alice", "plain": "bob\rby"}


def test_csv_cells_cannot_run_as_formulas_and_json_stays_exact(tmp_path):
    store = LabelStore(tmp_path / "f.sqlite", unknown_items="register")
    risky = ["=HYPERLINK(\"http://x\")", "+1+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", "'=already"]
    for k, text in enumerate(risky):
        store.add(text, text, who=text, event_id=text)
    store.add("negative", -1, who="alice")                       # a plain number stays a number
    path = store.export(tmp_path / "f.csv", per="annotator")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for col in ("item_id", "who", "event_id", "label"):
            cell = row[col]
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), (col, cell)
            assert not cell.startswith("-") or cell == "-1", (col, cell)
    assert [r["label"] for r in rows if r["item_id"] == "negative"] == ["-1"]
    assert [r["item_id"] for r in rows][:2] == ["'=HYPERLINK(\"http://x\")", "'+1+1"]
    back = read_labels(path)
    assert back["item_id"].tolist() == risky + ["negative"] and back["label"].tolist() == risky + [-1]
    exact = json.loads(store.export(tmp_path / "f.json", per="annotator").read_text())["labels"]
    assert [r["item_id"] for r in exact] == risky + ["negative"] and [r["who"] for r in exact][:7] == risky


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=12)
ID = TEXT.filter(lambda s: s.strip())
LABEL = st.recursive(st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False, allow_infinity=False)
                     | TEXT | st.just(""),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(ID, ID, LABEL, st.none() | st.floats(0, 1), st.none() | st.integers(0, 50)),
                min_size=1, max_size=8))
def test_csv_and_json_give_back_every_id_annotator_and_label(tmp_path, rows):
    store = LabelStore(":memory:", unknown_items="register")
    expected = {}
    for k, (item, who, label, confidence, rnd) in enumerate(rows):
        store.add(item, label, who=who, confidence=confidence, round=rnd, event_id=f"e{k}")
        expected[(item, who)] = (label, confidence, rnd, f"e{k}")
    for fmt in ("csv", "json"):
        back = read_labels(store.export(tmp_path / f"h.{fmt}", per="annotator"))
        got = {(i, w): (l, None if pd.isna(c) else c, None if pd.isna(r) else int(r), e)
               for i, w, l, c, r, e in zip(back["item_id"], back["who"], back["label"], back["confidence"],
                                           back["round"], back["event_id"])}
        assert got == expected, fmt
        assert (back["kind"] == "human").all()
    store.close()
