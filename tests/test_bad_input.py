"""Bad input gets a clear error that names the argument, what was given and what is allowed."""
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from auto_labeling import (ActiveLearner, DiversitySampling, QueryByCommittee, UncertaintyDiversitySampling,
                           UncertaintySampling, get_strategy, simulate)
from auto_labeling.core import as_pool


def test_empty_pool(fitted):
    with pytest.raises(ValueError, match="unlabeled_pool is empty"):
        UncertaintySampling().query(model=fitted, unlabeled_pool=np.empty((0, 64)), n_instances=1)


@pytest.mark.parametrize("n", [0, -3])
def test_non_positive_n_instances(fitted, digits, n):
    with pytest.raises(ValueError, match=rf"n_instances must be a positive integer; got {n}"):
        UncertaintySampling().query(model=fitted, unlabeled_pool=digits[0], n_instances=n)


def test_too_many_instances_is_an_error_not_a_clamp(fitted, digits):
    X = digits[0][:30]
    with pytest.raises(ValueError, match="n_instances=31 is larger than the 30 unlabeled items available"):
        UncertaintySampling().query(model=fitted, unlabeled_pool=X, n_instances=31)
    with pytest.raises(ValueError, match="larger than the 20 unlabeled items"):
        UncertaintySampling().query(model=fitted, unlabeled_pool=X, n_instances=21, exclude=range(10))


def test_non_integer_n_instances(fitted, digits):
    with pytest.raises(TypeError, match="n_instances must be a positive integer; got 2.5"):
        UncertaintySampling().query(model=fitted, unlabeled_pool=digits[0], n_instances=2.5)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_features(fitted, digits, bad):
    X = digits[0][:100].copy()
    X[42, 7] = bad
    for strategy in [UncertaintySampling(), DiversitySampling("coreset")]:
        with pytest.raises(ValueError, match="unlabeled_pool contains NaN or inf \\(first at row 42\\)"):
            strategy.query(model=fitted, unlabeled_pool=X, n_instances=5)


def test_model_without_predict_proba(digits):
    X, y = digits
    with pytest.raises(TypeError, match="has no predict_proba"):
        UncertaintySampling().query(model=SVC().fit(X[:100], y[:100]), unlabeled_pool=X, n_instances=5)
    with pytest.raises(TypeError, match="has no predict_proba"):
        ActiveLearner(SVC())


def test_unfitted_model(digits):
    with pytest.raises(NotFittedError, match="is not fitted"):
        UncertaintySampling().query(model=LogisticRegression(), unlabeled_pool=digits[0], n_instances=5)
    assert issubclass(NotFittedError, ValueError)


def test_unknown_names_list_the_valid_ones(digits, fitted):
    "Strategies follow scikit-learn: __init__ only stores; the check comes at query time and lists the valid names."
    X, _ = digits
    with pytest.raises(ValueError, match=r"method must be one of \['least_confident', 'margin', 'entropy'\]; got 'smallest'"):
        UncertaintySampling("smallest").query(model=fitted, unlabeled_pool=X, n_instances=5)
    with pytest.raises(ValueError, match="unknown strategy 'badgee'; choose one of .*'uncertainty'"):
        get_strategy("badgee")
    with pytest.raises(ValueError, match=r"method must be one of \['kmeans', 'coreset'\]; got 'dbscan'"):
        DiversitySampling("dbscan").query(unlabeled_pool=X, n_instances=5)
    with pytest.raises(ValueError, match="disagreement_measure must be one of .*got 'variance'"):
        QueryByCommittee(models=[fitted, fitted], disagreement_measure="variance").query(unlabeled_pool=X, n_instances=5)
    with pytest.raises(ValueError, match="diversity must be one of .*got 'x'"):
        UncertaintyDiversitySampling(diversity="x").query(model=fitted, unlabeled_pool=X, n_instances=5)


def test_committee_needs_two_members_with_one_class_set(digits, fitted):
    X, y = digits
    with pytest.raises(ValueError, match="at least two committee members; got 1"):
        QueryByCommittee(models=[fitted]).query(unlabeled_pool=X, n_instances=5)
    with pytest.raises(ValueError, match="n_members must be an integer >= 2; got 1"):
        QueryByCommittee(model=LogisticRegression(), n_members=1).fit(X[:100], y[:100])
    partial = LogisticRegression(max_iter=500).fit(X[y < 5][:200], y[y < 5][:200])
    with pytest.raises(ValueError, match=r"member 0 has \[0, 1, 2, .*member 1 has \[0, 1, 2, 3, 4\]"):
        QueryByCommittee(models=[fitted, partial]).query(unlabeled_pool=X, n_instances=5)
    with pytest.raises(ValueError, match="call fit\\(X_labeled, y_labeled\\) first"):
        QueryByCommittee(model=LogisticRegression()).query(unlabeled_pool=X, n_instances=5)


def test_shapes(fitted, digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"unlabeled_pool must be 2-D \(n_samples, n_features\); got shape \(64,\)"):
        UncertaintySampling().query(model=fitted, unlabeled_pool=X[0], n_instances=1)
    with pytest.raises(ValueError, match="X has 10 features but the model|features"):
        UncertaintySampling().query(model=fitted, unlabeled_pool=X[:, :10], n_instances=1)
    learner = ActiveLearner(LogisticRegression(max_iter=500))
    with pytest.raises(ValueError, match=r"y must be 1-D with one label per row of X; got y shape \(9,\) for X shape \(10, 64\)"):
        learner.teach(X[:10], y[:9])
    with pytest.raises(ValueError, match="indices must give one pool position per label"):
        learner.teach(X[:10], y[:10], indices=[1, 2])
    with pytest.raises(ValueError, match="y must be 1-D with one label per row"):
        simulate(LogisticRegression(), X, y[:-5])


def test_bad_exclude_and_pool_types(fitted, digits):
    X = digits[0]
    with pytest.raises(ValueError, match="exclude holds positions outside the pool of 1797 items"):
        UncertaintySampling().query(model=fitted, unlabeled_pool=X, n_instances=1, exclude=[5000])
    with pytest.raises(TypeError, match="unlabeled_pool must be a 2-D array, an np.memmap, or a sequence"):
        UncertaintySampling().query(model=fitted, unlabeled_pool=42, n_instances=1)
    with pytest.raises(TypeError, match="featurize must be callable"):
        UncertaintySampling().query(model=fitted, unlabeled_pool=["a"], featurize="tfidf", n_instances=1)
    with pytest.raises(ValueError, match="featurize must return a 2-D array with one row per item"):
        UncertaintySampling().query(model=fitted, unlabeled_pool=["a", "b"], featurize=lambda b: np.zeros(3),
                                    n_instances=1)


def test_random_state_type():
    with pytest.raises(TypeError, match="random_state must be None, an int or a numpy Generator; got 'seed'"):
        get_strategy("random").query(unlabeled_pool=np.zeros((5, 2)), n_instances=1, random_state="seed")


def test_nan_is_named_by_its_pool_position_whichever_row_is_read_first(fitted, digits):
    "A strategy that reads a few rows first (k-center's random first centre) still names the pool row, not 0."
    X = digits[0][:100].copy()
    X[42, 7] = np.nan
    with pytest.raises(ValueError, match=r"first at row 42\)"):
        as_pool(X).features(np.array([42]))
    for seed in range(150):                      # some of these seeds start k-center at row 42
        with pytest.raises(ValueError, match=r"first at row 42\)"):
            DiversitySampling("coreset").query(model=fitted, unlabeled_pool=X, n_instances=5, random_state=seed)
