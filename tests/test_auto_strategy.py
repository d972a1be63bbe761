"""strategy="auto" (issue 18) end to end: the bandit inside the one loop and inside the pipeline on digits, with the
labels coming back through the store, and the arm of every round in the results."""
import json

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from auto_labeling import AutoLabelingPipeline, EvaluationSettings, StoppingSettings
from auto_labeling.auto_strategy import AutoSampling
from auto_labeling.core import Pool
from auto_labeling.learner import ActiveLearner
from auto_labeling.loop import Loop
from auto_labeling.strategies import get_strategy

X, y = load_digits(return_X_y=True)
X = X / 16


def test_get_strategy_auto_is_the_bandit_and_the_learner_bags_its_model_for_the_committee():
    assert isinstance(get_strategy("auto"), AutoSampling)
    learner = ActiveLearner(LogisticRegression(max_iter=300), strategy="auto", random_state=0)
    assert "qbc:vote_entropy" in learner.strategy.arm_names and len(learner.strategy.arm_names) == 6


def test_the_loop_feeds_the_bandit_from_the_store_and_records_each_rounds_arm():
    learner = ActiveLearner(LogisticRegression(max_iter=300), strategy="auto", batch_size=10, random_state=0)
    pool = Pool(X[:1200], ids=[f"d{i}" for i in range(1200)])
    loop = Loop(learner, pool, "simulated", truth=y[:1200])
    start = np.random.default_rng(0).choice(1200, 20, replace=False)
    learner.use_pool(pool)
    learner.teach(X[start], y[start], indices=start)
    for _ in range(12):
        loop.step(10)
    auto = learner.strategy
    h = auto.history
    assert len(h) == 12
    assert [loop.round_stats(r)["strategy"] for r in range(1, 13)] == [f"auto:{a}" for a in h["arm"]]
    assert h["lift"].notna().sum() >= 5                  # labels reached observe through the store and sync
    assert np.isclose(auto.probabilities().sum(), 1.0)
    assert learner.n_labeled == 20 + 12 * 10             # the held-back items cost no extra labels


def test_the_pipeline_with_active_learning_auto_puts_the_arm_of_each_round_in_its_results(tmp_path):
    p = AutoLabelingPipeline(LogisticRegression(max_iter=300), active_learning="auto", store=str(tmp_path / "s.db"),
                             random_state=0)
    p.configure(batch_size=10, max_iterations=8, evaluation=EvaluationSettings(random_baseline=False),
                stopping=StoppingSettings(patience=None))
    r = p.run(unlabeled_data=(X[:1200], y[:1200]), validation_data=(X[1200:], y[1200:]), progress=False)
    arms = set(p.learner.strategy.arm_names)
    used = [s for s in r.rounds["strategy"] if s.startswith("auto:")]
    assert len(used) >= 6 and {s.removeprefix("auto:") for s in used} <= arms
    assert [row["strategy"] for row in json.loads(r.to_json())["rounds"]] == r.rounds["strategy"].tolist()
    assert p.learner.strategy.history["arm"].tolist()[-len(used):] == [s.removeprefix("auto:") for s in used]
