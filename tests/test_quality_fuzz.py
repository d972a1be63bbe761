"""Fuzz (hypothesis) over the quality API's public calls: every argument replaced by arbitrary values.

Each failure must be a `ValueError`/`TypeError` whose message names the argument given the bad value, never another
exception (an `IndexError`, a `KeyError`, a numpy `AxisError`); and values that are invalid by definition must be
refused, never silently accepted."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auto_labeling import LabelStore
from auto_labeling.quality import QualityControl
from auto_labeling.quality_boxes import box_agreement, box_iou, fuse_boxes, match_boxes

JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6), st.binary(max_size=4),
    st.lists(st.one_of(st.none(), st.integers(-2, 3), st.text(max_size=2), st.floats()), max_size=5),
    st.dictionaries(st.text(max_size=3), st.one_of(st.integers(-2, 2), st.floats()), max_size=3),
    st.tuples(st.integers(-2, 2), st.text(max_size=2)),
    st.builds(lambda n: np.arange(n, dtype=float).reshape(-1, 1) if n else np.empty((0, 3)), st.integers(0, 4)),
    st.just(object()), st.just(np.nan), st.just(-1), st.just(0), st.just(1.5), st.just(""),
    st.sampled_from(["cohen_kappa", "majority_vote", "weighted_vote", "iou", "nominal", "linear"]),
)
from fuzzing import EXPECTED, call  # noqa: E402
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

A1, A2, A3 = ["cat", "dog", "cat", None, "dog"], ["cat", "cat", "cat", "dog", "dog"], ["dog", "dog", "cat", "dog", None]
BOXES = [[{"bbox": [0, 0, 10, 10], "label": "cat"}], [{"bbox": [5, 5, 20, 20], "label": "dog"}]]
BOXES_B = [[{"bbox": [1, 1, 10, 10], "label": "cat"}], []]





QC_CALLS = {
    "inter_annotator_agreement": dict(annotations=[A1, A2], metric="cohen_kappa"),
    "agreement_matrix": dict(annotations=[A1, A2, A3], metric="percent"),
    "find_disagreements": dict(annotations=[A1, A2, A3], threshold=0.5),
    "annotator_reliability": dict(annotations=[A1, A2, A3]),
    "consensus_labeling": dict(annotations=[A1, A2, A3], method="majority_vote"),
}
QC_ARGS = [(m, a) for m, kw in QC_CALLS.items() for a in kw] + [
    ("inter_annotator_agreement", "weights"), ("inter_annotator_agreement", "level"),
    ("inter_annotator_agreement", "classes"), ("agreement_matrix", "weights"), ("consensus_labeling", "who"),
    ("consensus_labeling", "write_to")]


@pytest.mark.parametrize("method,arg", QC_ARGS)
@FUZZ
@given(value=JUNK)
def test_quality_control_calls_refuse_in_our_words(method, arg, value):
    qc = QualityControl()
    call(getattr(qc, method), arg, value, **QC_CALLS[method])


@pytest.mark.parametrize("arg", ["store", "iou_threshold", "random_state"])
@FUZZ
@given(value=JUNK)
def test_quality_control_constructor_refuses_in_our_words(arg, value):
    call(QualityControl, arg, value)


@FUZZ
@given(value=JUNK, where=st.integers(0, 2))
def test_one_bad_label_list_is_refused_naming_annotations(value, where):
    "A bad per-annotator sequence inside a valid list: refused as `annotations`, or (a list of labels) taken as data."
    lists = [list(A1), list(A2), list(A3)]
    lists[where] = value
    call(QualityControl().consensus_labeling, "annotations", lists)


BOX_CALLS = {
    box_agreement: dict(a_images=BOXES, b_images=BOXES_B, iou_threshold=0.5),
    fuse_boxes: dict(annotator_boxes=[BOXES[0], BOXES_B[0]], iou_threshold=0.55, min_votes=1),
    box_iou: dict(a=np.array([[0, 0, 1, 1.0]]), b=np.array([[0, 0, 2, 2.0]])),
    match_boxes: dict(a=np.array([[0, 0, 1, 1.0]]), la=["cat"], b=np.array([[0, 0, 2, 2.0]]), lb=["cat"]),
}
BOX_ARGS = [(f, a) for f, kw in BOX_CALLS.items() for a in kw] + [(box_agreement, "image_sizes"), (fuse_boxes, "weights")]


@pytest.mark.parametrize("f,arg", BOX_ARGS, ids=lambda x: getattr(x, "__name__", x))
@FUZZ
@given(value=JUNK)
def test_box_functions_refuse_in_our_words(f, arg, value):
    call(f, arg, value, **BOX_CALLS[f])


@FUZZ
@given(box=st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 50), st.text(max_size=2)),
                    max_size=6),
       label=st.one_of(st.text(max_size=3), st.none(), st.integers(), st.floats()), score=JUNK)
def test_a_bad_box_inside_the_lists_is_refused_naming_where(box, label, score):
    a_images = [[{"bbox": box, "label": label}], []]
    call(box_agreement, "a_images", a_images, b_images=BOXES_B)
    call(fuse_boxes, "annotator_boxes", [[{"bbox": box, "label": label, "score": score}], BOXES_B[0]])


INVALID = [
    (QualityControl, {}, "iou_threshold", [0, -0.1, 1.5, math.nan, True, "0.5"]),
    (QualityControl().find_disagreements, dict(annotations=[A1, A2]), "threshold", [-0.1, 1.1, math.nan, "x", True]),
    (QualityControl().consensus_labeling, dict(annotations=[A1, A2], method="weighted_vote"), "weights",
     [{"annotator_0": math.nan, "annotator_1": -1}, {"annotator_0": 0, "annotator_1": 0}, [1], [1, -1], "ab",
      {"annotator_0": 1}, {"annotator_0": 1, "annotator_1": 1, "nobody": 1}, [math.inf, 1]]),
    (QualityControl().consensus_labeling, dict(annotations=[A1, A2]), "method", ["bogus", None, 3]),
    (QualityControl().inter_annotator_agreement, dict(annotations=[A1, A2]), "metric", ["bogus", None]),
    (QualityControl().inter_annotator_agreement, dict(annotations=[A1, A2]), "annotations",
     [[A1], [A1, A2[:3]], [], "ab", 5, {"a": A1}, [A1, 7]]),
    (fuse_boxes, dict(annotator_boxes=[BOXES[0]]), "min_votes", [0, -1, 1.5, True]),
    (fuse_boxes, dict(annotator_boxes=[BOXES[0], BOXES_B[0]]), "weights", [[1], [1, -1], [0, 0], [math.nan, 1]]),
    (box_agreement, dict(a_images=BOXES, b_images=BOXES_B), "iou_threshold", [0, 1.5, math.nan, None]),
    (box_agreement, dict(a_images=BOXES, b_images=BOXES_B), "image_sizes", [[(10, 10)], [(0, 10), (10, 10)]]),
    (box_agreement, dict(a_images=BOXES, b_images=BOXES_B[:1]), "b_images", [BOXES_B[:1]]),
]


@pytest.mark.parametrize("f,valid,arg,values", INVALID, ids=lambda x: getattr(x, "__name__", None))
def test_invalid_values_are_never_accepted(f, valid, arg, values):
    for v in values:
        got = call(f, arg, v, **valid)
        assert isinstance(got, EXPECTED), f"{f.__name__}({arg}={v!r}) was accepted: {got!r}"


def test_a_store_with_one_annotator_is_refused_naming_annotations(tmp_path):
    store = LabelStore(tmp_path / "one.sqlite")
    store.add_items(["a", "b"])
    store.add_many(["a", "b"], ["cat", "dog"], who="alice")
    got = call(QualityControl().inter_annotator_agreement, "annotations", store)
    assert isinstance(got, ValueError)
