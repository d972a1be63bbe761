"""Quality control against the reference implementations: scikit-learn, statsmodels, krippendorff, crowd-kit."""
import warnings

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from auto_labeling import LabelStore
from auto_labeling.quality import QualityControl, fuse_boxes


def crowd_with_confusions(n_items=3000, n_classes=5, seed=0):
    "Annotators with known, asymmetric confusion matrices: two good, one who swaps classes 0 and 1, two near-random."
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, n_items)
    K = n_classes

    def confusion(diag):
        m = np.full((K, K), (1 - diag) / (K - 1))
        np.fill_diagonal(m, diag)
        return m

    swapper = confusion(0.85)
    swapper[[0, 1]] = swapper[[1, 0]]                      # says 1 for 0 and 0 for 1, most of the time
    confusions = {"good1": confusion(0.85), "good2": confusion(0.75), "swapper": swapper,
                  "noisy1": confusion(0.35), "noisy2": confusion(0.3)}
    labels = {}
    for name, m in confusions.items():
        cum = m[truth].cumsum(axis=1)
        said = (rng.random(n_items)[:, None] > cum).sum(axis=1)
        drop = rng.random(n_items) < 0.1                   # each annotator skips 10% of the items
        labels[name] = [None if d else int(s) for s, d in zip(said, drop)]
    return truth, labels, confusions


def test_metrics_equal_the_references_with_missing_labels():
    truth, labels, _ = crowd_with_confusions()
    qc = QualityControl()
    names = list(labels)
    a, b = labels["good1"], labels["noisy1"]
    both = [i for i in range(len(a)) if a[i] is not None and b[i] is not None]
    for weights in (None, "linear", "quadratic"):
        ref = cohen_kappa_score([a[i] for i in both], [b[i] for i in both], weights=weights)
        assert abs(qc.inter_annotator_agreement([a, b], weights=weights) - ref) < 1e-12
    data = np.array([[np.nan if v is None else v for v in labels[n]] for n in names], dtype=float)
    for level in ("nominal", "ordinal", "interval"):
        ours = qc.inter_annotator_agreement(labels, metric="krippendorff_alpha", level=level)
        assert abs(ours - krippendorff.alpha(data, level_of_measurement=level)) < 1e-9, level
    full = ~np.isnan(data).any(axis=0)
    with pytest.warns(UserWarning, match="labeled by every annotator"):
        ours = qc.inter_annotator_agreement(labels, metric="fleiss_kappa")
    assert abs(ours - sm_fleiss_kappa(aggregate_raters(data[:, full].T.astype(int))[0])) < 1e-12
    ref_pct = np.mean([np.mean([labels[x][i] == labels[y][i] for i in range(len(truth))
                                if labels[x][i] is not None and labels[y][i] is not None])
                       for k, x in enumerate(names) for y in names[k + 1:]])
    assert abs(qc.inter_annotator_agreement(labels, metric="percent") - ref_pct) < 1e-12


def test_dawid_skene_matches_crowd_kit_and_beats_majority_vote():
    from crowdkit.aggregation import DawidSkene, MajorityVote
    truth, labels, confusions = crowd_with_confusions()
    long = pd.DataFrame([(i, w, v) for w, seq in labels.items() for i, v in enumerate(seq) if v is not None],
                        columns=["task", "worker", "label"])
    with warnings.catch_warnings():                     # crowd-kit's own pandas deprecation warnings
        warnings.simplefilter("ignore")
        ref = DawidSkene(n_iter=100, tol=1e-6).fit_predict(long).sort_index()
        ref_mv = MajorityVote().fit_predict(long).sort_index()
    qc = QualityControl(random_state=0)
    ours = qc.consensus_labeling(labels, method="dawid_skene")
    mv = qc.consensus_labeling(labels, method="majority_vote")
    acc = lambda pred: float(np.mean(np.asarray(pred, dtype=float) == truth))
    assert acc(ours["label"]) > acc(mv["label"]) + 0.03, (acc(ours["label"]), acc(mv["label"]))
    assert abs(acc(ours["label"]) - acc(ref.to_numpy())) < 0.005              # as good as the reference
    assert np.mean(ours["label"].to_numpy(dtype=float) == ref.to_numpy()) > 0.99   # and nearly the same labels
    assert abs(acc(mv["label"]) - acc(ref_mv.to_numpy())) < 0.02                # (ties are broken differently)
    # the estimated confusion matrices are the ones the crowd was drawn from (the swapper's included)
    from auto_labeling.quality import Annotations, dawid_skene
    ann = Annotations.from_any(labels)
    _, pi, _ = dawid_skene(ann.codes, ann.n_classes)
    for j, name in enumerate(ann.annotators):
        assert np.abs(pi[j] - confusions[name]).max() < 0.06, name
    rel = qc.annotator_reliability(labels)
    assert rel.index[-1] == "good1" and set(rel.index[:2]) == {"noisy1", "noisy2"}


def test_consensus_from_and_into_the_store(tmp_path):
    truth, labels, _ = crowd_with_confusions(n_items=400)
    store = LabelStore(tmp_path / "labels.sqlite", classes=list(range(5)), unknown_items="register")
    for name, seq in labels.items():
        keep = [i for i, v in enumerate(seq) if v is not None]
        store.add_many(keep, [seq[i] for i in keep], who=name)
    qc = QualityControl(store, random_state=0)
    dis = qc.find_disagreements(threshold=0.5)
    assert len(dis) > 0 and dis["agreement"].is_monotonic_increasing and set(labels) <= set(dis.columns)
    result = qc.consensus_labeling(method="weighted_vote")
    stored = store.current("consensus")
    assert len(stored) == 400 and set(stored["who"]) == {"consensus:weighted_vote"}
    assert dict(zip(stored["item_id"], stored["label"])) == dict(zip(result["item_id"], result["label"]))
    assert stored["confidence"].between(0, 1).all()
    assert len(store.current("human")) == sum(v is not None for seq in labels.values() for v in seq)  # untouched


def test_boxes_agreement_matrix_and_fusion():
    rng = np.random.default_rng(0)
    true_boxes = [[[x, y, x + 30, y + 20] for x, y in rng.integers(0, 200, (3, 2))] for _ in range(20)]

    def annotator(jitter, miss):
        out = []
        for img in true_boxes:
            out.append([{"bbox": list(np.add(b, rng.normal(0, jitter, 4)).clip(0, None)), "label": "car"}
                        for b in img if rng.random() > miss])
        return out

    anns = {"careful": annotator(0.5, 0.0), "quick": annotator(2.0, 0.1), "sloppy": annotator(6.0, 0.3)}
    qc = QualityControl(iou_threshold=0.5)
    m = qc.agreement_matrix(anns, metric="iou")
    assert m.loc["careful", "quick"] > m.loc["careful", "sloppy"] and np.allclose(np.diag(m), 1)
    overall = qc.inter_annotator_agreement(anns, metric="iou")
    assert 0.5 < overall["mean_iou"] < 1 and 0 < overall["f1"] < 1
    n_fused = 0
    for i, truth in enumerate(true_boxes):
        fused = fuse_boxes([anns[n][i] for n in anns], min_votes=2)      # boxes at least two annotators drew
        n_fused += len(fused)
        for box in fused:                                                # each is close to a true box
            assert min(np.abs(np.subtract(box["bbox"], t)).max() for t in truth) < 8, (i, box)
            assert box["votes"] >= 2 and box["label"] == "car"
    assert n_fused >= 0.85 * sum(map(len, true_boxes))
    ax = qc.plot_agreement(m, metric="iou f1")
    assert len(ax.texts) == 9


def test_bad_input_messages():
    qc = QualityControl()
    with pytest.raises(TypeError, match="annotations must be"):
        qc.inter_annotator_agreement(42)
    with pytest.raises(ValueError, match="not one of the classes"):
        qc.inter_annotator_agreement([[1, 2], [1, 3]], classes=[1, 2])
    with pytest.raises(ValueError, match="weights applies to metric='cohen_kappa' only"):
        qc.inter_annotator_agreement([[1, 2], [1, 2]], metric="percent", weights="linear")
    with pytest.raises(ValueError, match="level must be"):
        qc.inter_annotator_agreement([[1, 2], [1, 2]], metric="krippendorff_alpha", level="fuzzy")
    with pytest.warns(UserWarning, match="no item was labeled by both annotators"):
        assert np.isnan(qc.inter_annotator_agreement([[1, None], [None, 2]]))      # undefined: nan, said why
    with pytest.warns(UserWarning, match="labeled by nobody"):
        qc.find_disagreements([[1, None, 2], [1, None, 3]])
    with pytest.raises(ValueError, match="no human labels"):
        QualityControl(LabelStore(":memory:")).consensus_labeling()


def test_the_specification_calls_as_written():
    "The specification's Quality Control snippets, argument names as written, against the reference libraries."
    rng = np.random.default_rng(3)
    truth = rng.choice(["cat", "dog", "bird"], 200)
    annotator1_labels = [t if rng.random() < 0.9 else "dog" for t in truth]
    annotator2_labels = [t if rng.random() < 0.7 else "bird" for t in truth]
    qc = QualityControl()
    agreement = qc.inter_annotator_agreement(
        annotations=[annotator1_labels, annotator2_labels],
        metric="cohen_kappa"  # or "fleiss_kappa", "iou"
    )
    assert abs(agreement - cohen_kappa_score(annotator1_labels, annotator2_labels)) < 1e-12
    assert f"Agreement: {agreement:.2%}" == f"Agreement: {cohen_kappa_score(annotator1_labels, annotator2_labels):.2%}"
    agreement = qc.inter_annotator_agreement(annotations=[annotator1_labels, annotator2_labels], metric="fleiss_kappa")
    codes = np.array([[["bird", "cat", "dog"].index(v) for v in annotator1_labels],
                      [["bird", "cat", "dog"].index(v) for v in annotator2_labels]]).T
    assert abs(agreement - sm_fleiss_kappa(aggregate_raters(codes)[0])) < 1e-12
    assert f"Agreement: {agreement:.2%}".endswith("%")
    boxes1 = [[{"bbox": [10, 10, 50, 50], "label": "cat"}, {"bbox": [60, 60, 90, 90], "label": "dog"}], []]
    boxes2 = [[{"bbox": [12, 10, 52, 50], "label": "cat"}], []]
    agreement = qc.inter_annotator_agreement(annotations=[boxes1, boxes2], metric="iou")
    assert f"Agreement: {agreement:.2%}" == "Agreement: 66.67%"                    # F1: 1 of 3 boxes matched twice
    assert abs(agreement.mean_iou - 1520 / 1680) < 1e-12

    disagreements = qc.find_disagreements(
        annotations=[annotator1_labels, annotator2_labels],
        threshold=0.5
    )
    differ = {i for i, (x, y) in enumerate(zip(annotator1_labels, annotator2_labels)) if x != y}
    assert set(disagreements.index) == differ and len(differ) > 20

    ann1, ann2, ann3 = annotator1_labels, annotator2_labels, [t if rng.random() < 0.8 else "cat" for t in truth]
    consensus = qc.consensus_labeling(
        annotations=[ann1, ann2, ann3],
        method="majority_vote"  # or "weighted_vote"
    )
    votes = pd.DataFrame({"a": ann1, "b": ann2, "c": ann3})
    clear = [i for i in range(len(truth)) if votes.iloc[i].value_counts().iloc[0] >= 2]
    assert (consensus["label"].iloc[clear].to_numpy() == votes.mode(axis=1)[0].iloc[clear].to_numpy()).all()
    weighted = qc.consensus_labeling(annotations=[ann1, ann2, ann3], method="weighted_vote")
    assert len(weighted) == len(truth) and (weighted["label"] == truth).mean() >= (consensus["label"] == truth).mean() - 0.05
