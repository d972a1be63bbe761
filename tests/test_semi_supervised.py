"""Semi-supervised learning on the learner's pool types, with and without sample weights, and into a store."""
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from auto_labeling import ActiveLearner, LabelStore, SimulatedAnnotator
from auto_labeling.semi_supervised import SelfTrainer


def test_self_training_on_a_memmap_pool_matches_the_array(digits, tmp_path):
    X, y = digits
    lab, rest = np.arange(60), np.arange(60, len(X))
    mm = np.memmap(tmp_path / "pool.f64", dtype=np.float64, mode="w+", shape=(len(rest), X.shape[1]))
    mm[:] = X[rest]
    mm.flush()
    pool = np.memmap(tmp_path / "pool.f64", dtype=np.float64, mode="r", shape=(len(rest), X.shape[1]))
    a = SelfTrainer(LogisticRegression(max_iter=1000), confidence_threshold=0.5).fit((X[lab], y[lab]))
    b = SelfTrainer(LogisticRegression(max_iter=1000), confidence_threshold=0.5).fit((X[lab], y[lab]))
    pa, pb = a.label_unlabeled(X[rest]), b.label_unlabeled(pool)
    assert np.array_equal(pa.indices, pb.indices) and np.array_equal(pa.labels, pb.labels)
    assert len(pa) > 50 and pa.accuracy(y[rest]) > 0.95


def test_models_without_sample_weight_still_train(digits):
    X, y = digits
    st = SelfTrainer(KNeighborsClassifier(5), confidence_threshold=0.8, soft_weights=True)
    hist = st.fit_iterative((X[:80], y[:80]), X[80:], iterations=3, y_unlabeled=y[80:])
    assert hist["n_pseudo"].iloc[-1] > 0 and hist["pseudo_accuracy"].iloc[-1] > 0.9


def test_active_plus_self_training_keeps_human_and_pseudo_apart_in_the_store(digits, tmp_path):
    X, y = digits
    store = LabelStore(tmp_path / "labels.sqlite")
    trainer = SelfTrainer(LogisticRegression(max_iter=1000), confidence_threshold=0.5, store=store, model_name="lr@v1")
    learner = ActiveLearner(LogisticRegression(max_iter=1000), "uncertainty_diversity", batch_size=10,
                            random_state=0, store=store, self_training=trainer)
    annotator = SimulatedAnnotator(y)
    for _ in range(4):
        learner.send_to_labeling(learner.query(X), tool=annotator)
    human, pseudo = store.labels("human"), store.labels("pseudo")
    assert len(human) == 40 and len(pseudo) == len(learner.pseudo) > 100
    assert not set(human) & set(pseudo)                      # never a pseudo-label over a human one
    assert set(store.current("pseudo")["who"]) == {"lr@v1"}
    right = np.mean([y[int(i)] == v for i, v in pseudo.items()])
    assert right > 0.95
