"""Fuzz (hypothesis) over PreAnnotator's public calls and the format conversions: every argument replaced by
arbitrary values. Each failure must be a `ValueError`/`TypeError` naming the argument, never another exception; values
that are invalid by definition must be refused, never silently accepted."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from auto_labeling import LabelStore
from auto_labeling.formats import Annotation, convert, export_names
from auto_labeling.pre_annotation import PreAnnotator, matched_iou

JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6), st.binary(max_size=4),
    st.lists(st.one_of(st.none(), st.integers(-2, 3), st.text(max_size=2), st.floats()), max_size=5),
    st.dictionaries(st.text(max_size=3), st.one_of(st.integers(-2, 2), st.floats()), max_size=3),
    st.builds(lambda n, k: np.arange(n * k, dtype=float).reshape(n, k), st.integers(0, 3), st.integers(0, 5)),
    st.just(object()), st.just(np.nan), st.just(-1), st.just(0), st.just(1.5), st.just(""),
    st.sampled_from(["coco", "yolo", "pascal_voc", "label_studio", "cvat", "cpu", "cat"]),
)
from fuzzing import EXPECTED, call  # noqa: E402
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])
X = np.random.default_rng(0).normal(size=(40, 4))
Y = np.where(X[:, 0] > 0, "cat", "dog")
CLASSIFIER = LogisticRegression().fit(X, Y)
BOXES = Annotation("a.jpg", 100, 80, np.array([[1, 2, 30, 40.0]]), ["cat"], np.array([0.9]))
TRUTH = Annotation("a.jpg", 100, 80, np.array([[2, 2, 30, 41.0]]), ["cat"])




CONSTRUCTOR = dict(model=CLASSIFIER, confidence_threshold=0.7)


@pytest.mark.parametrize("arg", ["model", "confidence_threshold", "model_version", "batch_size", "device", "imgsz",
                                 "featurize", "classes", "review_floor"])
@FUZZ
@given(value=JUNK)
def test_the_constructor_refuses_in_our_words(arg, value):
    call(PreAnnotator, arg, value, **CONSTRUCTOR)


PREDICT = dict(images=X[:3], format="label_studio", progress=False)


@pytest.mark.parametrize("arg", ["images", "format", "progress", "folder"])
@FUZZ
@given(value=JUNK)
def test_predict_refuses_in_our_words(arg, value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    call(PreAnnotator(**CONSTRUCTOR).predict, arg, value, **PREDICT)


@FUZZ
@given(rows=st.lists(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3),
                                        st.text(max_size=2), st.none()), min_size=0, max_size=6), max_size=4))
def test_feature_rows_of_any_shape_and_content_are_refused_naming_images(rows):
    call(PreAnnotator(**CONSTRUCTOR).predict, "images", rows, progress=False)


@pytest.mark.parametrize("arg", ["store", "annotations", "item_ids"])
@FUZZ
@given(value=JUNK)
def test_to_store_refuses_in_our_words(arg, value):
    pa = PreAnnotator(**CONSTRUCTOR)
    annotations = pa.predict(X[:2], progress=False)
    store = LabelStore(":memory:")
    call(pa.to_store, arg, value, store=store, annotations=annotations, item_ids=["a", "b"])


@pytest.mark.parametrize("arg", ["pred", "truth", "iou_threshold"])
@FUZZ
@given(value=JUNK)
def test_matched_iou_refuses_in_our_words(arg, value):
    call(matched_iou, arg, value, pred=BOXES, truth=TRUTH, iou_threshold=0.5)


@pytest.mark.parametrize("arg", ["annotations", "format", "classes", "folder", "label_ids"])
@FUZZ
@given(value=JUNK)
def test_convert_refuses_in_our_words(arg, value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                        # a folder= given as text is written under tmp_path
    valid = dict(annotations=[BOXES], format="yolo", classes=["cat", "dog"], folder=tmp_path / "out")
    if arg == "label_ids":
        valid["format"] = "cvat"
    call(convert, arg, value, **valid)


@FUZZ
@given(value=JUNK)
def test_export_names_refuses_in_our_words(value):
    call(export_names, "images", value)


INVALID = [
    (PreAnnotator, CONSTRUCTOR, "confidence_threshold", [0, -0.1, 1.5, math.nan, True, "0.7", None]),
    (PreAnnotator, CONSTRUCTOR, "review_floor", [-0.1, 0.8, math.nan, "0"]),
    (PreAnnotator, CONSTRUCTOR, "batch_size", [0, -1, 1.5, True, None]),
    (PreAnnotator, CONSTRUCTOR, "imgsz", [0, -5, 31, 1.5, True]),
    (PreAnnotator, CONSTRUCTOR, "model", ["yolov8n.pt", "no-such-weights.pt", "https://x/y.pt", "nope.yaml", 3,
                                          LogisticRegression()]),
    (PreAnnotator, CONSTRUCTOR, "classes", ["cat", ["cat"], 5]),
    (PreAnnotator(**CONSTRUCTOR).predict, dict(images=X[:2], progress=False), "images",
     [np.full((2, 4), np.nan), X[:2, :3], "not-a-folder.png", 5, None, [[1, 2], [3]]]),
    (PreAnnotator(**CONSTRUCTOR).predict, dict(images=X[:2], progress=False), "format",
     ["bogus", "yolo", "coco", 3]),
    (PreAnnotator(**CONSTRUCTOR).predict, dict(images=X[:2], progress=False), "progress", [1, "yes", None]),
    (matched_iou, dict(pred=BOXES, truth=TRUTH), "iou_threshold", [0, 1.5, math.nan, None]),
    (export_names, {}, "images", [["a.jpg", "a.jpg"], 5, None]),
]


@pytest.mark.parametrize("f,valid,arg,values", INVALID, ids=lambda x: getattr(x, "__name__", None))
def test_invalid_values_are_never_accepted(f, valid, arg, values):
    for v in values:
        got = call(f, arg, v, **valid)
        assert isinstance(got, EXPECTED), f"{getattr(f, '__name__', f)}({arg}={v!r}) was accepted: {got!r}"
