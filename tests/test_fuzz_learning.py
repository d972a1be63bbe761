"""Fuzz (hypothesis) over the public constructors and calls of the learner (`ActiveLearner`, `query`, `teach`), the
loop (`Loop`, `propose`, `send`), the pipeline (`AutoLabelingPipeline`, `configure`, `run`) and the widget
(`LabelingSession`): every argument replaced by arbitrary values, one at a time, the others valid.

Each failure must be a `ValueError`/`TypeError` whose message names the argument given the bad value, never another
exception (an `IndexError`, a `KeyError`, a scikit-learn or numpy error of its own); and values that are invalid by
definition are listed in `INVALID` and must be refused, never silently accepted."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from auto_labeling import ActiveLearner, AutoLabelingPipeline, LabelStore
from auto_labeling.core import Pool
from auto_labeling.loop import Loop

JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6), st.binary(max_size=4),
    st.lists(st.one_of(st.none(), st.integers(-2, 3), st.text(max_size=2), st.floats()), max_size=5),
    st.dictionaries(st.text(max_size=3), st.one_of(st.integers(-2, 2), st.floats()), max_size=3),
    st.tuples(st.integers(-2, 2), st.text(max_size=2)),
    st.builds(lambda n, k: np.arange(n * k, dtype=float).reshape(n, k), st.integers(0, 3), st.integers(0, 5)),
    st.just(object()), st.just(np.nan), st.just(-1), st.just(0), st.just(1.5), st.just(""), st.just("5"),
    st.sampled_from(["uncertainty", "diversity", "random", "margin", "simulated", "widget", "accuracy", "bogus"]),
)
from fuzzing import EXPECTED, call  # noqa: E402
FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.function_scoped_fixture])

threadpool_limits(1)                     # small fits: one BLAS thread is faster than many on a loaded machine
_X, _Y = load_digits(return_X_y=True)
X = (_X[_Y < 3][:200, ::4] / 16.0)       # three classes, 16 features: each fit takes milliseconds
Y = _Y[_Y < 3][:200]
SEED_X, SEED_Y = X[:20], Y[:20]
POOL = X[20:120]
TRUTH = Y[20:120]


def model():
    return LogisticRegression(max_iter=200)




def learner(**kw):
    return ActiveLearner(model(), X_training=SEED_X, y_training=SEED_Y, random_state=0, **kw)


# --- the learner ---------------------------------------------------------------------------------------------
LEARNER = dict(model=LogisticRegression(max_iter=200), X_training=SEED_X, y_training=SEED_Y)


@pytest.mark.parametrize("arg", ["model", "strategy", "batch_size", "X_training", "y_training", "cold_start",
                                 "featurize", "random_state", "chunk_size", "who", "use_pseudo", "self_training",
                                 "min_pseudo_accuracy", "pseudo_audit"])
@FUZZ
@given(value=JUNK)
def test_learner_constructor_refuses_in_our_words(arg, value):
    call(ActiveLearner, arg, value, **{**LEARNER, "model": model()})


@pytest.mark.parametrize("arg", ["unlabeled_pool", "n_instances", "exclude", "sync"])
@FUZZ
@given(value=JUNK)
def test_learner_query_refuses_in_our_words(arg, value):
    call(learner().query, arg, value, unlabeled_pool=POOL, n_instances=3)


@pytest.mark.parametrize("arg", ["X", "y", "indices", "refit", "who"])
@FUZZ
@given(value=JUNK)
def test_learner_teach_refuses_in_our_words(arg, value):
    call(learner().teach, arg, value, X=POOL[:3], y=TRUTH[:3])


# --- the loop ------------------------------------------------------------------------------------------------
def loop_args(tmp):
    return dict(learner=learner(), pool=Pool(POOL), tool="simulated", truth=TRUTH)     # the in-memory store


@pytest.mark.parametrize("arg", ["learner", "pool", "tool", "truth", "classes", "key", "hold_out_audits"])
@FUZZ
@given(value=JUNK)
def test_loop_constructor_refuses_in_our_words(arg, value, tmp_path_factory):
    call(Loop, arg, value, **loop_args(tmp_path_factory.mktemp("loop")))


@pytest.mark.parametrize("arg", ["n_instances", "random_fraction"])
@FUZZ
@given(value=JUNK)
def test_loop_propose_refuses_in_our_words(arg, value, tmp_path_factory):
    call(Loop(**loop_args(tmp_path_factory.mktemp("loop"))).propose, arg, value, n_instances=3)


@pytest.mark.parametrize("arg", ["batch", "n_instances"])
@FUZZ
@given(value=JUNK)
def test_loop_send_refuses_in_our_words(arg, value, tmp_path_factory):
    call(Loop(**loop_args(tmp_path_factory.mktemp("loop"))).send, arg, value)


# --- the pipeline --------------------------------------------------------------------------------------------
PIPELINE = dict(model=LogisticRegression(max_iter=200), active_learning="uncertainty", labeling_tool="simulated")


@pytest.mark.parametrize("arg", ["model", "active_learning", "labeling_tool", "store", "classes", "featurize",
                                 "random_state", "cost_model"])
@FUZZ
@given(value=JUNK)
def test_pipeline_constructor_refuses_in_our_words(arg, value):
    call(AutoLabelingPipeline, arg, value, **{**PIPELINE, "model": model()})


@pytest.mark.parametrize("arg", ["batch_size", "confidence_threshold", "max_iterations", "budget", "metric",
                                 "random_fraction", "wait_timeout", "poll_interval", "cold_start", "fallback",
                                 "stopping", "evaluation", "semi_supervision"])
@FUZZ
@given(value=JUNK)
def test_pipeline_configure_refuses_in_our_words(arg, value):
    call(AutoLabelingPipeline(model()).configure, arg, value)


RUN = dict(labeled_data=(SEED_X, SEED_Y), unlabeled_data=POOL, oracle=TRUTH, progress=False)


@pytest.mark.parametrize("arg", ["labeled_data", "unlabeled_data", "target_accuracy", "validation_data", "oracle",
                                 "items", "item_ids", "progress"])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=JUNK)
def test_pipeline_run_refuses_in_our_words(arg, value):
    p = AutoLabelingPipeline(model()).configure(batch_size=20, max_iterations=1, random_fraction=0)
    call(p.run, arg, value, **RUN)


# --- the widget ----------------------------------------------------------------------------------------------
def session_args(tmp):
    store = LabelStore(":memory:")
    return dict(learner=learner(store=store), pool=Pool(POOL), store=store, classes=[0, 1, 2])


@pytest.mark.parametrize("arg", ["learner", "pool", "store", "classes", "batch_size", "task", "items", "annotator",
                                 "budget", "image_width", "background", "audit_fraction", "random_state",
                                 "page_size"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(value=JUNK)
def test_widget_constructor_refuses_in_our_words(arg, value, tmp_path_factory):
    from auto_labeling.widget import LabelingSession
    call(LabelingSession, arg, value, **session_args(tmp_path_factory.mktemp("w")), background=False)


# --- values that are invalid by definition: refused, never accepted -------------------------------------------
def _session(tmp, **kw):
    from auto_labeling.widget import LabelingSession
    return LabelingSession(**{**session_args(tmp), "background": False, **kw})


INVALID = [
    ("query(n_instances)", lambda tmp, v: learner().query(POOL, v), "n_instances", [True, "5", 0, -1, 2.5, math.nan]),
    ("query(sync)", lambda tmp, v: learner().query(POOL, 3, sync=v), "sync", ["yes", 1, None]),
    ("teach(refit)", lambda tmp, v: learner().teach(POOL[:3], TRUTH[:3], refit=v), "refit", ["no", 0, None]),
    ("teach(indices)", lambda tmp, v: learner().teach(POOL[:3], TRUTH[:3], indices=v), "indices",
     [["a", "b", "c"], [0.5, 1, 2], [-1, 0, 1], [0, 1]]),
    ("teach(y)", lambda tmp, v: learner().teach(POOL[:3], v), "y", [[1.0, math.nan, 2.0], [1, 2], 5]),
    ("ActiveLearner(X_training)", lambda tmp, v: ActiveLearner(model(), X_training=v), "y_training", [SEED_X]),
    ("ActiveLearner(X_training)", lambda tmp, v: ActiveLearner(model(), X_training=v, y_training=SEED_Y), "X_training",
     [SEED_X[:5], SEED_X[:, 0], "abc"]),
    ("ActiveLearner(cold_start)", lambda tmp, v: ActiveLearner(model(), cold_start=v), "cold_start", ["bogus", 3]),
    ("ActiveLearner(batch_size)", lambda tmp, v: ActiveLearner(model(), batch_size=v), "batch_size", [0, -1, True, "5"]),
    ("Loop(truth)", lambda tmp, v: Loop(**{**loop_args(tmp), "truth": v}), "truth", [None, TRUTH[:5], 7, "abc"]),
    ("Loop(classes)", lambda tmp, v: Loop(**{**loop_args(tmp), "classes": v}), "classes",
     [[], [1, 1], "ab", 3, [None, 1], [math.nan, 1]]),
    ("propose(random_fraction)", lambda tmp, v: Loop(**loop_args(tmp)).propose(3, random_fraction=v),
     "random_fraction", [-0.1, 1.5, math.nan, "0.5", True]),
    ("Pipeline(active_learning)", lambda tmp, v: AutoLabelingPipeline(model(), active_learning=v), "active_learning",
     ["bogus", 3, None]),
    ("Pipeline(labeling_tool)", lambda tmp, v: AutoLabelingPipeline(model(), labeling_tool=v), "labeling_tool",
     ["bogus", 3, None]),
    ("Pipeline(featurize)", lambda tmp, v: AutoLabelingPipeline(model(), featurize=v), "featurize", ["tfidf", 3]),
    ("Pipeline(random_state)", lambda tmp, v: AutoLabelingPipeline(model(), random_state=v), "random_state",
     ["seed", 1.5]),
    ("Pipeline(classes)", lambda tmp, v: AutoLabelingPipeline(model(), classes=v), "classes", [[], [1, 1], "ab", 3]),
    ("configure(poll_interval)", lambda tmp, v: AutoLabelingPipeline(model()).configure(poll_interval=v),
     "poll_interval", [-1, 0, math.nan, math.inf, "5"]),
    ("configure(cold_start)", lambda tmp, v: AutoLabelingPipeline(model()).configure(cold_start=v), "cold_start",
     ["bogus", 3]),
    ("configure(batch_size)", lambda tmp, v: AutoLabelingPipeline(model()).configure(batch_size=v), "batch_size",
     [0, -1, True, 2.5]),
    ("configure(budget)", lambda tmp, v: AutoLabelingPipeline(model()).configure(budget=v), "budget", [0, -1, 1.5]),
    ("configure(confidence_threshold)", lambda tmp, v: AutoLabelingPipeline(model()).configure(confidence_threshold=v),
     "confidence_threshold", [0, 1.5, math.nan, "0.9"]),
    ("run(target_accuracy)", lambda tmp, v: AutoLabelingPipeline(model()).configure(max_iterations=1).run(
        **RUN, target_accuracy=v), "target_accuracy", [1.5, -0.1, math.nan, "0.9"]),
    ("run(oracle)", lambda tmp, v: AutoLabelingPipeline(model()).configure(max_iterations=1).run(
        **{**RUN, "oracle": v}), "oracle", [TRUTH[:5], 7]),
    ("LabelingSession(budget)", lambda tmp, v: _session(tmp, budget=v), "budget", [-1, 0, 1.5, True]),
    ("LabelingSession(image_width)", lambda tmp, v: _session(tmp, image_width=v), "image_width", [-5, 0, "224"]),
    ("LabelingSession(batch_size)", lambda tmp, v: _session(tmp, batch_size=v), "batch_size", [0, -1, True]),
    ("LabelingSession(items)", lambda tmp, v: _session(tmp, items=v), "items", [["a"], list(range(5))]),
    ("LabelingSession(classes)", lambda tmp, v: _session(tmp, classes=v), "classes", [[], [1, 1], 3]),
]


@pytest.mark.parametrize("what,f,arg,values", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_values_are_never_accepted(what, f, arg, values, tmp_path):
    for i, v in enumerate(values):
        (tmp_path / str(i)).mkdir()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(EXPECTED) as got:
                f(tmp_path / str(i), v)
        assert arg in str(got.value), f"{what} with {v!r} raised without naming {arg}: {got.value!r}"


def test_check_classes_is_the_one_class_list_check():
    from auto_labeling.core import check_classes
    assert check_classes(["cat", "dog"]) == ["cat", "dog"]
    assert check_classes(np.array([0, 1, 2])) == [0, 1, 2]
    assert check_classes(None) is None
    for bad, kind in [("cat", TypeError), (3, TypeError), ({"a": 1}, TypeError), ([None], TypeError),
                      ([math.nan], TypeError), ([], ValueError), (["a", "a"], ValueError), (None, TypeError)]:
        with pytest.raises(kind, match="labels"):
            check_classes(bad, "labels", allow_none=False) if bad is None else check_classes(bad, "labels")
