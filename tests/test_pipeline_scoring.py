"""How often a pipeline round scores the pool (issue 20: "with self-training on, the learner scores the pool twice a
round with the same model"): every predict_proba call is recorded with the fitted model it came from."""
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from auto_labeling import AutoLabelingPipeline, EvaluationSettings

CALLS = []          # (model fit number, rows) per predict_proba call
FITS = [0]


class CountingLogisticRegression(LogisticRegression):
    "LogisticRegression that records each fit and each predict_proba call (same parameters, same results)."

    def fit(self, X, y, sample_weight=None):
        FITS[0] += 1
        self.fit_number_ = FITS[0]
        return super().fit(X, y, sample_weight=sample_weight)

    def predict_proba(self, X):
        CALLS.append((getattr(self, "fit_number_", 0), len(X)))
        return super().predict_proba(X)


@pytest.mark.parametrize("threshold, C", [(None, 1.0), (0.95, 1.0), (0.95, 0.01)])
def test_each_fitted_model_scores_the_pool_once(threshold, C):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    pool, y_pool = X[20:1600], y[20:1600]
    CALLS.clear()
    p = AutoLabelingPipeline(CountingLogisticRegression(max_iter=300, C=C), "uncertainty", "simulated",
                             random_state=0)
    p.configure(batch_size=20, max_iterations=6, confidence_threshold=threshold,
                evaluation=EvaluationSettings(random_baseline=False, lift_monitor=False, monitor_size=200))
    p.run(labeled_data=(X[:20], y[:20]), unlabeled_data=(pool, y_pool), validation_data=(X[1600:], y[1600:]),
          progress=False)
    passes = [fit for fit, rows in CALLS if rows == len(pool)]          # whole-pool scoring passes
    per_model = {fit: passes.count(fit) for fit in set(passes)}
    assert per_model and max(per_model.values()) == 1, per_model       # no model scores the pool twice
    rounds = len(p.results.rounds) - 1
    if threshold is None:
        assert len(passes) == rounds, (len(passes), rounds, CALLS)       # one a round, to query
        return
    # with self-training each fit (the seed set's and one a round) scores the pool to pseudo-label. The query after
    # it scores again only if pseudo-labels were added (the model refit on them is another model); with none, or
    # with proposed ones the cross-validation on the human labels turned down (a validation set: nothing held out),
    # the model is the one that just scored the pool, and the query reuses those scores (issue 20: once a round)
    fits = p.learner.pseudo_history
    assert len(fits) == rounds + 1
    want = sum(not h["paused"] for h in fits) + sum(h["paused"] or h["n_pseudo"] > 0 for h in fits[:rounds])
    assert len(passes) == want, (len(passes), want, rounds, fits)
    if C == 1.0:                           # pseudo-labels proposed, and judged by the folds (kept or not)
        judged = [h for h in fits if h["n_proposed"] > 0]
        assert judged and all(h["cv_gain"] == h["cv_gain"] for h in judged), fits
    else:                                  # nothing near the bar: no pseudo-label, no graph, one pass a round
        assert all(h["n_proposed"] == 0 for h in fits)
        assert p.learner.self_training.graph_ is None
        assert len(passes) == rounds + 1


def test_a_round_whose_pseudo_labels_are_vetoed_scores_the_pool_once():
    """Without a validation set the pipeline holds random items out, and they judge each round's pseudo-labels. The
    judge is a copy of the model fit with them; on a veto the learner's own fit on the human labels stays, and the
    query reuses the pool scores label_unlabeled made with it (before, the model was fit with the pseudo-labels, fit
    again without, and the pool scored a second time)."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    pool, y_pool = X[20:1600], y[20:1600]
    CALLS.clear()
    p = AutoLabelingPipeline(CountingLogisticRegression(max_iter=300), "uncertainty", "simulated", random_state=0)
    # 0.9: at 0.95 the balanced quotas wait for every class until the last rounds (one verdict in 8 rounds)
    p.configure(batch_size=20, max_iterations=8, confidence_threshold=0.9,
                evaluation=EvaluationSettings(random_baseline=False, lift_monitor=False, monitor_size=200))
    p.run(labeled_data=(X[:20], y[:20]), unlabeled_data=(pool, y_pool), progress=False)
    passes = [fit for fit, rows in CALLS if rows == len(pool)]
    fits, rounds = p.learner.pseudo_history, len(p.results.rounds) - 1
    vetoed = [h for h in fits[:rounds] if h["held_out_gain"] == h["held_out_gain"] and h["dropped"]]
    assert len(vetoed) >= 2, fits                       # the held-out items judged, and said no
    # a pass for each fit that pseudo-labels, and one for each query whose model is not the one that just did
    want = sum(not h["paused"] for h in fits) + sum(h["paused"] or h["n_pseudo"] > 0 for h in fits[:rounds])
    assert len(passes) == want, (len(passes), want, fits)


def test_with_auto_the_default_each_fitted_model_scores_the_pool_once():
    "The pipeline's default strategy ('auto') takes the pool scores self-training made, as margin does."
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    pool, y_pool = X[20:1600], y[20:1600]
    CALLS.clear()
    p = AutoLabelingPipeline(CountingLogisticRegression(max_iter=300, C=0.01), labeling_tool="simulated", random_state=0)
    p.configure(batch_size=20, max_iterations=6, confidence_threshold=0.95,
                evaluation=EvaluationSettings(random_baseline=False, lift_monitor=False, monitor_size=200))
    p.run(labeled_data=(X[:20], y[:20]), unlabeled_data=(pool, y_pool), validation_data=(X[1600:], y[1600:]),
          progress=False)
    passes = [fit for fit, rows in CALLS if rows == len(pool)]
    per_model = {fit: passes.count(fit) for fit in set(passes)}
    assert p.active_learning == "auto" and per_model and max(per_model.values()) == 1, per_model
