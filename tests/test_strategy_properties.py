"""Property tests: every strategy returns exactly n_instances unique in-range positions, never an excluded
one, and the same positions again under the same random_state; scores are float64 and agree on two classes;
k-center greedy is the textbook loop; strategies follow scikit-learn's estimator conventions."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from auto_labeling import (DiversitySampling, QueryByCommittee, RandomSampling, UncertaintyDiversitySampling,
                           UncertaintySampling)
from auto_labeling.strategies import (STRATEGIES, BadgeSampling, ClusterMarginSampling, TypiClustSampling,
                                      entropy, get_strategy, kcenter_greedy, least_confident, margin, top_k)


def _model(X, seed):
    y = np.arange(len(X)) % 3                       # three classes, every class present
    np.random.default_rng(seed).shuffle(y)
    return LogisticRegression(max_iter=200).fit(X, y)


def _strategies(X, seed):
    m = _model(X, seed)
    m2 = LogisticRegression(C=0.1, max_iter=200).fit(X, m.predict(X) if len(set(m.predict(X))) == 3 else
                                                     np.arange(len(X)) % 3)
    return m, [
        RandomSampling(),
        UncertaintySampling("least_confident"), UncertaintySampling("margin"), UncertaintySampling("entropy"),
        QueryByCommittee(models=[m, m2], disagreement_measure="vote_entropy"),
        QueryByCommittee(models=[m, m2], disagreement_measure="kl_divergence"),
        DiversitySampling("kmeans"), DiversitySampling("coreset"),
        UncertaintyDiversitySampling("margin", diversity="kmeans"),
        UncertaintyDiversitySampling("entropy", candidates=3, diversity="coreset"),
        BadgeSampling(), TypiClustSampling(n_neighbors=3), ClusterMarginSampling(candidates=2),
    ]


@st.composite
def problems(draw):
    n = draw(st.integers(6, 120))
    d = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if draw(st.booleans()):                          # duplicated rows: ties everywhere
        X[: n // 2] = X[0]
    n_ex = draw(st.integers(0, n - 1))
    exclude = rng.choice(n, size=n_ex, replace=False)
    n_instances = draw(st.integers(1, n - n_ex))
    return X, exclude, n_instances, seed


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_strategy_returns_valid_reproducible_batches(problem):
    X, exclude, n_instances, seed = problem
    model, strategies = _strategies(X, seed)
    labeled = X[exclude[:5]] if len(exclude) else None
    for strategy in strategies:
        r = strategy.query(model=model, unlabeled_pool=X, n_instances=n_instances, exclude=exclude,
                           random_state=seed, labeled_features=labeled)
        idx = r.indices
        assert len(idx) == n_instances, strategy
        assert len(set(idx.tolist())) == n_instances, strategy
        assert idx.min() >= 0 and idx.max() < len(X), strategy
        assert not set(idx.tolist()) & set(exclude.tolist()), strategy
        np.testing.assert_array_equal(r.items, X[idx])
        fresh = strategy if isinstance(strategy, QueryByCommittee) else clone(strategy)   # clone unfits members
        again = fresh.query(model=model, unlabeled_pool=X, n_instances=n_instances, exclude=exclude,
                            random_state=seed, labeled_features=labeled)
        if isinstance(strategy, ClusterMarginSampling):        # clusters are kept per pool: the same again
            np.testing.assert_array_equal(strategy.query(model=model, unlabeled_pool=X, n_instances=n_instances,
                                                         exclude=exclude, random_state=seed).indices, idx)
        np.testing.assert_array_equal(again.indices, idx, err_msg=str(strategy))


@pytest.mark.parametrize("method", ["least_confident", "margin", "entropy"])
def test_uncertainty_picks_the_top_scores(method, digits, fitted):
    """The batch is exactly the n highest-scoring items, best first (checked against a full sort)."""
    from auto_labeling import uncertainty_scores
    X, _ = digits
    r = UncertaintySampling(method).query(model=fitted, unlabeled_pool=X, n_instances=50)
    s = uncertainty_scores(fitted.predict_proba(X), method)
    assert s.dtype == np.float64
    assert np.allclose(np.sort(s)[::-1][:50], s[r.indices])
    assert (np.diff(r.scores) <= 1e-12).all()


# --- two classes: least-confident, margin and entropy are one ranking --------------------------------------
def _two_class_rows(draw, dtype):
    """Two-class probabilities as a model computes them in `dtype`: p from a logit, rows (1 - p, p) rounded to
    `dtype`, so the two columns need not sum to exactly one. float64 logits are kept 1e-7 away from a dead heat
    or exactly at it: nearer than that, no float64 entropy value can tell two rows apart (its resolution near
    log 2 is 1e-16, i.e. |p - 1/2| of about 1e-8), which is a limit of float64, not of the method."""
    n = draw(st.integers(2, 60))
    logits = draw(st.lists(st.floats(-30, 30, allow_nan=False), min_size=n, max_size=n))
    z = np.array(logits)
    if dtype == np.float64:
        z = np.where(np.abs(z) < 1e-7, 0.0, z)
    p = (1.0 / (1.0 + np.exp(-z.astype(dtype)))).astype(dtype)
    return np.stack([(1 - p).astype(dtype), p], axis=1)


@settings(max_examples=200, deadline=None)
@given(st.data(), st.sampled_from([np.float32, np.float64]))
def test_two_class_scores_pick_the_same_items(data, dtype):
    P = _two_class_rows(data.draw, dtype)
    k = data.draw(st.integers(1, len(P)))
    seed = data.draw(st.integers(0, 1000))
    picks = [top_k(fn(P), k, random_state=seed) for fn in (least_confident, margin, entropy)]
    for other in picks[1:]:
        assert set(other.tolist()) == set(picks[0].tolist()), (P, picks)
    for fn in (least_confident, margin, entropy):
        assert fn(P).dtype == np.float64


def test_float32_entropy_no_longer_saturates():
    """|p - 0.5| < 2e-4 in float32: the float32 formula gives one entropy for all; ours keeps margin's order."""
    p = (0.5 + np.arange(1, 9) * 2e-5).astype(np.float32)
    P = np.stack([1 - p, p], axis=1)
    assert len(set((-(P * np.log(P)).sum(1)).tolist())) <= 2
    np.testing.assert_array_equal(np.argsort(-entropy(P)), np.argsort(-margin(P)))
    np.testing.assert_array_equal(np.argsort(-entropy(P)), np.arange(8))


# --- k-center greedy is the textbook loop --------------------------------------------------------------------
def _textbook(E, k, first=None, centers=None, exclude=()):
    E = np.asarray(E, dtype=np.float64)
    d = np.full(len(E), np.inf)
    if centers is not None:
        d = ((E[:, None, :] - np.asarray(centers, np.float64)[None]) ** 2).sum(-1).min(1)
    d[list(exclude)] = -np.inf
    out, nxt = [], first if first is not None else int(np.argmax(d))
    for _ in range(k):
        out.append(nxt)
        d = np.minimum(d, ((E - E[nxt]) ** 2).sum(1))
        d[out] = -np.inf
        nxt = int(np.argmax(d))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(20, 400), st.integers(1, 8), st.integers(0, 2**16), st.integers(0, 80), st.booleans(),
       st.sampled_from([(8, 4), (64, 16), (65_536, 2_048)]))
def test_kcenter_greedy_is_the_textbook_loop(n, d, seed, n_labeled, duplicates, sizes):
    rng = np.random.default_rng(seed)
    E = rng.normal(size=(n, d)).astype(np.float32)
    if duplicates:
        E[: n // 3] = E[0]
    k = int(rng.integers(1, n // 2))
    ex = rng.choice(n, size=int(rng.integers(0, n // 4)), replace=False)
    L = rng.normal(size=(n_labeled, d)).astype(np.float32) if n_labeled else None
    ours = kcenter_greedy(E, k, L, exclude=ex, random_state=seed, hot_size=sizes[0], work_size=sizes[1])
    first = None if L is not None else int(ours[0])
    assert ours.tolist() == _textbook(E, k, first, L, ex)


def test_kcenter_greedy_ends_when_equal_bounds_straddle_the_hot_set():
    "A third of the pool is one duplicated row: equal bounds in and out of a small hot set (this used to loop forever)."
    rng = np.random.default_rng(1)
    E = rng.normal(size=(400, 8)).astype(np.float32)
    E[:133] = E[0]
    L = rng.normal(size=(80, 8)).astype(np.float32)
    ex = rng.choice(400, size=90, replace=False)
    for hot, work in [(8, 4), (64, 16), (65_536, 2_048)]:
        ours = kcenter_greedy(E, 199, L, exclude=ex, random_state=1, hot_size=hot, work_size=work)
        assert ours.tolist() == _textbook(E, 199, None, L, ex)


# --- scikit-learn conventions -------------------------------------------------------------------------------
def test_every_strategy_clones_and_round_trips_its_params(fitted):
    strategies = [get_strategy(name) for name in STRATEGIES] + [
        QueryByCommittee(models=[fitted, clone(fitted)], disagreement_measure="kl_divergence"),
        UncertaintyDiversitySampling("entropy", candidates=3, diversity="coreset"),
        DiversitySampling("coreset", n_clusters=7, embed=np.tanh), TypiClustSampling(n_neighbors=5),
        ClusterMarginSampling(candidates=4, n_clusters=30)]
    for s in strategies:
        c = clone(s)
        assert type(c) is type(s) and c is not s
        assert c.name == s.name
        params = s.get_params(deep=False)
        assert set(params) == set(c.get_params(deep=False))
        rebuilt = type(s)().set_params(**params)
        assert repr(rebuilt) == repr(s)
        assert "name" not in params


def test_constructors_only_store_and_checks_name_the_argument(digits, fitted):
    """Bad parameters construct fine (scikit-learn's rule) and fail at query time, naming the argument."""
    X, _ = digits
    cases = [(UncertaintySampling("smallest"), "method must be one of"),
             (DiversitySampling("dbscan"), "method must be one of ['kmeans', 'coreset']"),
             (QueryByCommittee(models=[fitted], disagreement_measure="vote_entropy"), "at least two committee members"),
             (QueryByCommittee(models=[fitted, fitted], disagreement_measure="variance"), "disagreement_measure must be"),
             (UncertaintyDiversitySampling(diversity="x"), "diversity must be one of"),
             (TypiClustSampling(max_clusters=0), "max_clusters must be a positive integer"),
             (ClusterMarginSampling(candidates=0.5), "candidates must be a number >= 1"),
             (BadgeSampling(embed="penultimate"), "embed must be a function")]
    for strategy, message in cases:
        with pytest.raises((ValueError, TypeError), match=message.replace("[", r"\[").replace("]", r"\]")):
            strategy.query(model=fitted, unlabeled_pool=X, n_instances=5)
    with pytest.raises(ValueError, match="n_members must be an integer >= 2; got 1"):
        QueryByCommittee(model=LogisticRegression(), n_members=1).fit(X[:50], np.arange(50) % 3)


def test_a_fitted_model_makes_model_strategies_ready_at_once(fitted):
    for s in [UncertaintySampling(), BadgeSampling(), ClusterMarginSampling(), UncertaintyDiversitySampling()]:
        assert s.is_ready(fitted) and not s.is_ready(LogisticRegression()) and not s.is_ready(None)
    for s in [RandomSampling(), DiversitySampling(), TypiClustSampling()]:
        assert s.is_ready(None)
    assert QueryByCommittee(models=[fitted, clone(fitted).fit(np.eye(3), [0, 1, 2])]).is_ready(None)
    assert not QueryByCommittee(model=LogisticRegression()).is_ready(fitted)


def test_specification_calls_as_written(digits, fitted):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline
    X, y = digits
    model, pool = fitted, X
    model1, model2, model3 = fitted, clone(fitted).set_params(C=0.1).fit(X[:300], y[:300]), \
        clone(fitted).set_params(C=10.0).fit(X[:300], y[:300])
    assert len(UncertaintySampling(method="least_confident").query(model=model, unlabeled_pool=pool, n_instances=100)) == 100
    assert len(QueryByCommittee(models=[model1, model2, model3], disagreement_measure="vote_entropy").query(
        unlabeled_pool=pool, n_instances=100)) == 100
    assert len(DiversitySampling(method="kmeans", n_clusters=100).query(unlabeled_pool=pool, n_instances=100)) == 100
    assert len(DiversitySampling(method="coreset").query(unlabeled_pool=pool, n_instances=100)) == 100
    texts = [f"{w} offer {i}" for i, w in enumerate(["free", "meeting", "prize", "lunch"] * 25)]
    labels = [1, 0, 1, 0] * 25
    bert1, bert2, bert3 = (make_pipeline(TfidfVectorizer(), c).fit(texts, labels)
                           for c in (MultinomialNB(), LogisticRegression(), LogisticRegression(C=0.01)))
    unlabeled_texts = [f"free lunch {i}" for i in range(300)] + [f"prize meeting {i}" for i in range(300)]
    uncertain_texts = QueryByCommittee(models=[bert1, bert2, bert3]).query(unlabeled_texts, n_instances=200)
    assert len(uncertain_texts) == 200 and all(isinstance(t, str) for t in uncertain_texts.items)


def test_cluster_margin_clusters_a_new_pool_even_when_it_reuses_a_freed_pools_id():
    "clusters_ belong to the pool they were made for: a fresh pool of the same length gets its own."
    rng = np.random.default_rng(0)
    X0 = rng.normal(size=(300, 4))
    model = _model(X0, 0)
    strategy = ClusterMarginSampling()
    strategy.query(model=model, unlabeled_pool=X0, n_instances=10, random_state=0)
    for seed in range(1, 11):                        # each new pool is made after the last one is freed
        X = np.random.default_rng(seed).normal(size=(300, 4)) * (seed + 1)
        picks = strategy.query(model=model, unlabeled_pool=X, n_instances=10, random_state=0)
        fresh = ClusterMarginSampling().query(model=model, unlabeled_pool=X, n_instances=10, random_state=0)
        np.testing.assert_array_equal(picks.indices, fresh.indices)
        del X, picks, fresh
