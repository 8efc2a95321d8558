"""The real `kaggle` client against a fake Kaggle on 127.0.0.1: success, and errors that keep old data."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import yaml

from stages import config
from stages.catalog.datasets import DATASETS
from stages.ingest.raw import download
from stages.common.errors import DownloadError
from stages.ingest.processed import preprocess
from stages.tools import kaggle_mirror as fake_kaggle
from tests.conftest import REPO, run

KAGGLE = config.load(REPO / "params.yaml").data.model_copy(
    update={"source": "kaggle", "download_backoff_s": 0.0, "download_retries": 1, "download_timeout_s": 5})


def previous_good(folder):
    """Put a recognisable earlier download in `folder` and return its files' bytes."""
    folder.mkdir(parents=True)
    (folder / "data.csv").write_text("earlier,good\n1,2\n")
    (folder / "SOURCE.json").write_text("{}\n")
    return snapshot(folder)


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("name", DATASETS.names)
def test_kaggle_download_then_preprocess(fake_kaggle_server, tmp_path, name):
    spec = DATASETS.get(name)
    record = download(spec, KAGGLE, tmp_path / "raw")
    assert record["source"] == "kaggle" and record["origin"] == f"kaggle:{spec.kaggle_handle}"
    assert sorted(record["files"]) == sorted(spec.kaggle.files)
    assert ("POST", fake_kaggle.DOWNLOAD_PATH) in fake_kaggle_server.requests
    assert not list(tmp_path.glob(".*"))  # no staging folder left beside the output
    meta = preprocess(spec, KAGGLE, tmp_path / "raw", tmp_path / "processed")
    assert meta["source"] == "kaggle"
    train = np.load(tmp_path / "processed" / "train.npz")
    assert np.isfinite(train["x"]).all()
    if name == "fashion_mnist":
        assert len(meta["features"]) == 784 and meta["test_from_file"]
        assert meta["target"]["class_names"][0] == "T-shirt/top"
    if name == "breast_cancer":
        assert meta["target"]["class_names"] == ["benign", "malignant"] and len(meta["features"]) == 30
    if name == "california_housing":
        assert "ocean_proximity_INLAND" in meta["features"]
        assert "total_bedrooms" in meta["imputed_median"]


def test_missing_credentials_say_how_to_set_them(kaggle_home, tmp_path):
    out = tmp_path / "raw"
    before = previous_good(out)
    with pytest.raises(DownloadError) as caught:
        download(DATASETS.get("breast_cancer"), KAGGLE, out)
    message = str(caught.value)
    assert "KAGGLE_USERNAME" in message and "~/.kaggle" in message and "data.source=offline" in message
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "raw"]


def test_unknown_dataset_is_a_clear_404(fake_kaggle_server, tmp_path):
    del fake_kaggle_server.archives["uciml/breast-cancer-wisconsin-data"]
    out = tmp_path / "raw"
    before = previous_good(out)
    with pytest.raises(DownloadError, match=r"uciml/breast-cancer-wisconsin-data was not found on Kaggle \(404\)"):
        download(DATASETS.get("breast_cancer"), KAGGLE, out)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "raw"]


def test_rejected_key_is_a_clear_401(fake_kaggle_server, tmp_path, monkeypatch):
    monkeypatch.setenv("KAGGLE_KEY", f"{fake_kaggle_server.key}-wrong")
    with pytest.raises(DownloadError, match=r"rejected the credentials \(401\)") as caught:
        download(DATASETS.get("breast_cancer"), KAGGLE, tmp_path / "raw")
    assert fake_kaggle_server.key not in str(caught.value)
    assert not (tmp_path / "raw").exists()


@pytest.mark.e2e
def test_download_stage_cli_fails_in_one_line_without_leaking_the_key(fake_kaggle_server, tmp_path, monkeypatch):
    """The stage's own process: a 404 and a rejected key are one line each with no key in them."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["data"].update(source="kaggle", download_backoff_s=0, download_retries=0)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    del fake_kaggle_server.archives["uciml/breast-cancer-wisconsin-data"]
    result = run([sys.executable, "-m", "stages.download", "breast_cancer", "--out", "data/raw/breast_cancer"],
                 tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "(404)" in result.stderr
    assert fake_kaggle_server.key not in result.stdout + result.stderr
    ok = run([sys.executable, "-m", "stages.download", "fashion_mnist", "--out", "data/raw/fashion_mnist"],
             tmp_path)
    assert ok.returncode == 0, ok.stderr
    written = tmp_path / "data" / "raw" / "fashion_mnist"
    assert json.loads((written / "SOURCE.json").read_text())["source"] == "kaggle"
    assert all(fake_kaggle_server.key.encode() not in p.read_bytes() for p in written.iterdir())
    rejected = f"{fake_kaggle_server.key}-rejected"  # a wrong key: the failure must not echo it either
    monkeypatch.setenv("KAGGLE_KEY", rejected)
    failed = run([sys.executable, "-m", "stages.download", "fashion_mnist", "--out", "data/raw/fashion_mnist"],
                 tmp_path)
    assert failed.returncode == 1 and "rejected the credentials (401)" in failed.stderr
    assert fake_kaggle_server.key not in failed.stdout + failed.stderr  # nor the rejected one, which contains it
    assert json.loads((written / "SOURCE.json").read_text())["source"] == "kaggle"  # the good files stay


@pytest.mark.e2e
def test_dvc_repro_with_a_rejected_key_fails_without_leaking_it(fake_kaggle_server, reproduced_clone, monkeypatch):
    """A rejected key through `dvc repro`: one line naming the 401, and no key in DVC's output or any file of the
    repo (the rehearsal's test covers the successful download through `dvc repro`)."""
    from tests.conftest import dvc

    params = yaml.safe_load((reproduced_clone / "params.yaml").read_text())
    params["data"].update(source="kaggle", download_backoff_s=0, download_retries=0)
    (reproduced_clone / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    rejected = f"{fake_kaggle_server.key}-rejected"
    monkeypatch.setenv("KAGGLE_KEY", rejected)
    failed = dvc("repro", "download@breast_cancer", cwd=reproduced_clone)
    assert failed.returncode != 0 and "rejected the credentials (401)" in failed.stdout + failed.stderr
    assert fake_kaggle_server.key not in failed.stdout + failed.stderr
    assert (reproduced_clone / "data" / "raw" / "breast_cancer" / "data.csv").is_file()  # persist: the old files stay
    for path in reproduced_clone.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert fake_kaggle_server.key.encode() not in path.read_bytes(), path
