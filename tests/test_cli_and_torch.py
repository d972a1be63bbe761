"""The demo command end to end, and a torch network driven by the learner (committee included)."""
import json
import subprocess
import sys

import numpy as np
import pytest


def test_demo_command_writes_plot_and_report(tmp_path):
    out = subprocess.run([sys.executable, "-m", "auto_labeling.cli", "demo", "--out", str(tmp_path), "--seeds", "1",
                          "--budget", "120", "--no-progress"], capture_output=True, text=True, timeout=600, check=True)
    assert "full-data accuracy" in out.stdout and "uncertainty_diversity" in out.stdout
    png = (tmp_path / "curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    report = json.loads((tmp_path / "report.json").read_text())
    assert set(report["curves"]) == {"uncertainty_diversity", "uncertainty", "random"}
    assert report["curves"]["random"]["n_labels"][-1] == 120
    assert 0.9 < report["full_accuracy"] <= 1


def test_torch_module_in_the_loop(digits):
    torch = pytest.importorskip("torch")
    from auto_labeling import ActiveLearner, QueryByCommittee, SimulatedAnnotator, TorchClassifier
    X, y = digits
    X = X.astype(np.float32)

    def mlp(n_features, n_classes):
        return torch.nn.Sequential(torch.nn.Linear(n_features, 32), torch.nn.ReLU(), torch.nn.Linear(32, n_classes))

    net = TorchClassifier(mlp, epochs=15, lr=1e-2, classes=range(10), random_state=0)
    annotator = SimulatedAnnotator(y)
    for strategy in ["margin", QueryByCommittee(model=net, n_members=3, random_state=0)]:
        learner = ActiveLearner(net, strategy=strategy, batch_size=20, random_state=0)
        for _ in range(4):
            learner.send_to_labeling(learner.query(X), tool=annotator)
        assert learner.n_labeled == 80
        assert len(set(learner.labeled_indices.tolist())) == 80
        assert learner.accuracy(X, y) > 0.6


def test_cli_simulate_and_export(tmp_path):
    import json
    import subprocess
    import sys
    from auto_labeling import LabelStore
    run = lambda *a: subprocess.run([sys.executable, "-m", "auto_labeling.cli", *a], capture_output=True, text=True,
                                    timeout=600)
    out = run("simulate", "--strategy", "margin", "--budget", "60", "--seeds", "1", "--out", str(tmp_path / "sim"),
              "--no-progress")
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "sim" / "report.json").read_text())
    assert set(report["curves"]) == {"margin", "random"}
    bad = run("simulate", "--strategy", "smartest")
    assert bad.returncode == 2 and "unknown strategy 'smartest'" in bad.stderr and len(bad.stderr.splitlines()) == 1
    small = run("simulate", "--budget", "5", "--batch-size", "10")
    assert small.returncode == 2 and "smaller than one batch" in small.stderr
    store = LabelStore(tmp_path / "labels.sqlite", unknown_items="register")
    store.add("a.png", [{"bbox": [1, 2, 11, 12], "label": "cat"}], who="alice")
    store.snapshot("v1")
    done = run("export", "--store", str(tmp_path / "labels.sqlite"), "--version", "v1", "--format", "coco",
               "--out", str(tmp_path / "v1.json"))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "v1.json").read_text())["annotations"][0]["bbox"] == [1.0, 2.0, 10.0, 10.0]
    missing = run("export", "--store", str(tmp_path / "nope.sqlite"), "--out", str(tmp_path / "x.json"))
    assert missing.returncode == 2 and "no label store" in missing.stderr
