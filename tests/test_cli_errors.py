"Every CLI failure is one line naming what to fix, exit 2 (issue 19): one test per subcommand, run as users run it."
import os
import subprocess
import sys

import pytest

from auto_labeling import LabelStore


def cli(*argv, env=None, cwd=None):
    full = {k: v for k, v in os.environ.items() if k not in ("LABEL_STUDIO_API_KEY", "AUTO_LABELING_WEBHOOK_SECRET")}
    full.update(env or {})
    out = subprocess.run([sys.executable, "-m", "auto_labeling.cli", *argv], capture_output=True, text=True,
                         timeout=300, env=full, cwd=cwd)
    return out.returncode, out.stderr.strip()


def one_line(rc, err, *needles):
    "Exit 2, no traceback, one message line (argparse's usage lines come before its one error line)."
    assert rc == 2, err
    lines = err.splitlines()
    assert "Traceback" not in err and lines, err
    if lines[0].startswith("usage:"):
        lines = [l for l in lines if ": error: " in l]
    assert len(lines) == 1, err
    for n in needles:
        assert n in lines[0], err


def test_demo_bad_values():
    one_line(*cli("demo", "--seeds", "0"), "argument --seeds", ">= 1", "got 0")
    one_line(*cli("demo", "--target", "1.5"), "argument --target", "(0, 1]", "1.5")
    one_line(*cli("demo", "--target", "0"), "argument --target")
    one_line(*cli("demo", "--budget", "5"), "argument --budget", "--batch-size")
    one_line(*cli("demo", "--budget", "15", "--batch-size", "5"), "argument --budget", "--n-initial")


def test_simulate_bad_values():
    one_line(*cli("simulate", "--seeds", "-1"), "argument --seeds")
    one_line(*cli("simulate", "--strategy", "smartest"), "unknown strategy 'smartest'")


def test_run_malformed_yaml(tmp_path):
    (tmp_path / "bad.yaml").write_text("model: [\n")
    rc, err = cli("run", "--config", str(tmp_path / "bad.yaml"))
    one_line(rc, err, "not valid YAML")
    assert len(err.splitlines()) == 1


@pytest.fixture
def store_file(tmp_path):
    store = LabelStore(tmp_path / "labels.sqlite", unknown_items="register")
    store.add("a/001.png", [{"bbox": [1, 2, 11, 12], "label": "cat"}], who="alice")
    return tmp_path / "labels.sqlite"


def test_export_paths(tmp_path, store_file):
    rc, err = cli("export", "--store", str(store_file), "--out", str(tmp_path / "missing" / "x.json"))
    one_line(rc, err, "does not exist")
    (tmp_path / "folder").mkdir()
    rc, err = cli("export", "--store", str(store_file), "--out", str(tmp_path / "folder"))
    one_line(rc, err, "is a folder")


def test_export_yolo_needs_and_uses_images(tmp_path, store_file):
    from PIL import Image
    rc, err = cli("export", "--store", str(store_file), "--format", "yolo", "--out", str(tmp_path / "yolo"))
    one_line(rc, err, "--images")
    (tmp_path / "img" / "a").mkdir(parents=True)
    Image.new("RGB", (40, 20)).save(tmp_path / "img" / "a" / "001.png")
    rc, err = cli("export", "--store", str(store_file), "--format", "yolo", "--out", str(tmp_path / "yolo"),
                  "--images", str(tmp_path / "img"))
    assert rc == 0, err
    labels = [p for p in (tmp_path / "yolo").rglob("*.txt") if p.read_text().startswith("0 ")]
    assert len(labels) == 1 and labels[0].read_text().split()[1:] == ["0.150000", "0.350000", "0.250000", "0.500000"]
    rc, err = cli("export", "--store", str(store_file), "--format", "pascal_voc", "--out", str(tmp_path / "voc"),
                  "--images", str(tmp_path / "nowhere"))
    one_line(rc, err, "--images", "not a folder")


def test_export_postgres_error_hides_password(tmp_path):
    rc, err = cli("export", "--store", "postgresql://alice:s3cr3t-pass@127.0.0.1:1/labels",
                  "--out", str(tmp_path / "x.json"))
    one_line(rc, err, "PostgreSQL")
    assert "s3cr3t-pass" not in err


def test_serve_webhook_errors(tmp_path):
    secret = {"AUTO_LABELING_WEBHOOK_SECRET": "0123456789abcdef0123"}
    one_line(*cli("serve-webhook", "--project", "1"), "AUTO_LABELING_WEBHOOK_SECRET", "16")
    # too short: refused before Label Studio is contacted (the URL is a dead port)
    one_line(*cli("serve-webhook", "--project", "1", "--url", "http://127.0.0.1:1",
                  env={"AUTO_LABELING_WEBHOOK_SECRET": "short", "LABEL_STUDIO_API_KEY": "k"}), "16 characters")
    one_line(*cli("serve-webhook", "--project", "1", env=secret), "LABEL_STUDIO_API_KEY")
    one_line(*cli("serve-webhook", "--project", "1", "--features", str(tmp_path / "none.npy"),
                  env={**secret, "LABEL_STUDIO_API_KEY": "k"}), "--features")
    rc, err = cli("serve-webhook", "--project", "1", "--url", "http://127.0.0.1:1", "--store",
                  str(tmp_path / "s.sqlite"), env={**secret, "LABEL_STUDIO_API_KEY": "key-do-not-print-1234"})
    one_line(rc, err, "127.0.0.1:1")
    assert "key-do-not-print-1234" not in err
    one_line(*cli("serve-webhook", "--project", "0"), "argument --project")


def test_program_name_and_help():
    import auto_labeling.cli as c
    assert c.build_parser("auto-label").format_help().startswith("usage: auto-label ")
    rc = subprocess.run([sys.executable, "-m", "auto_labeling.cli", "simulate", "--help"], capture_output=True,
                        text=True, timeout=120)
    assert rc.returncode == 0 and "margin" in rc.stdout and "uncertainty_diversity" in rc.stdout


def test_simulate_offers_the_bundled_text_datasets(tmp_path):
    import json
    out = subprocess.run([sys.executable, "-m", "auto_labeling.cli", "simulate", "--dataset", "sms_spam", "--strategy",
                          "margin", "--budget", "60", "--seeds", "1", "--out", str(tmp_path), "--no-progress"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["dataset"].startswith("SMS Spam Collection") and set(report["curves"]) == {"margin", "random"}
    assert report["full_accuracy"] > 0.9
    from auto_labeling.cli import demo_dataset
    X, y, what = demo_dataset("newsgroups")
    assert X.shape == (len(y), 100) and len(set(y)) == 20 and "20 Newsgroups" in what
    one_line(*cli("simulate", "--dataset", "imagenet"), "argument --dataset", "sms_spam")


def test_export_real_postgres_error_hides_password(tmp_path, postgres_base_url):
    "A real server's refusal (a database that does not exist) is one line, exit 2, and never shows the password."
    url = postgres_base_url.replace("postgresql://al@", "postgresql://al:pw-never-printed-42@") + "/no_such_db"
    rc, err = cli("export", "--store", url, "--out", str(tmp_path / "x.json"))
    one_line(rc, err, "PostgreSQL", "no_such_db")
    assert "pw-never-printed-42" not in err
