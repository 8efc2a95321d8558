"""Kaggle, network, archive and interruption faults: one actionable line each, old data intact, no debris."""
from __future__ import annotations

import io
import shutil
import signal
import socket
import subprocess
import zipfile

import pytest

from stages import config
from stages.catalog.datasets import DATASETS
from stages.ingest.raw import download
from stages.common.errors import DataError, DownloadError
from stages.tools import kaggle_mirror as fake_kaggle
from tests.conftest import REPO, subprocess_env, train_command
from tests.tiny import add_variant, write_tiny_params

HANDLE = "uciml/breast-cancer-wisconsin-data"
SPEC = DATASETS.get("breast_cancer")
KAGGLE = config.load(REPO / "params.yaml").data.model_copy(
    update={"source": "kaggle", "download_backoff_s": 0.0, "download_retries": 2, "download_timeout_s": 5})


@pytest.fixture
def previous(tmp_path):
    """data/raw/breast_cancer holding an earlier good download; returns (folder, its bytes)."""
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "data.csv").write_text("id,diagnosis\n1,B\n")
    (folder / "SOURCE.json").write_text("{}\n")
    return folder, snapshot(folder)


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def fails_cleanly(previous, tmp_path, match: str, data=KAGGLE, error=DownloadError) -> str:
    import os

    """Download must fail with one line matching `match`, leave the old files and no temporary ones."""
    folder, before = previous
    with pytest.raises(error) as caught:
        download(SPEC, data, folder)
    message = str(caught.value)
    assert "\n" not in message and match in message, message
    assert snapshot(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "raw"]  # nothing staged is left
    assert os.environ["KAGGLE_KEY"] not in message
    return message


def archive(members: dict) -> bytes:
    """A zip whose members are (ZipInfo or name) -> bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for info, data in members.items():
            zipped.writestr(info, data)
    return buffer.getvalue()


def good_csv() -> bytes:
    return fake_kaggle.wdbc_csv()["data.csv"]


def test_403_says_where_to_accept_the_rules(fake_kaggle_server, previous, tmp_path):
    fake_kaggle_server.faults[HANDLE] = [(403, "You must accept this dataset's rules")]
    message = fails_cleanly(previous, tmp_path, "(403)")
    assert f"accept the dataset's rules at https://www.kaggle.com/datasets/{HANDLE}" in message


@pytest.mark.parametrize("status, expected", [(429, "rate-limiting downloads (429)"), (500, "HTTP 500"),
                                              (503, "HTTP 503")])
def test_retryable_errors_are_retried_then_reported(fake_kaggle_server, previous, tmp_path, status, expected):
    fake_kaggle_server.faults[HANDLE] = [(status, "busy")] * 10
    message = fails_cleanly(previous, tmp_path, expected)
    assert f"after {KAGGLE.download_retries + 1} tries" in message
    posts = [r for r in fake_kaggle_server.requests if r[0] == "POST"]
    assert len(posts) == KAGGLE.download_retries + 1


def test_a_transient_error_is_survived(fake_kaggle_server, tmp_path):
    fake_kaggle_server.faults[HANDLE] = [(503, "busy"), (429, "slow down")]
    record = download(SPEC, KAGGLE, tmp_path / "raw")
    assert record["source"] == "kaggle"
    assert len([r for r in fake_kaggle_server.requests if r[0] == "POST"]) == 3


def test_connection_refused_is_named(fake_kaggle_server, previous, tmp_path, monkeypatch):
    from kagglesdk import kaggle_env

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("NNF_KAGGLE_ENDPOINT", dead)
    monkeypatch.setitem(kaggle_env._env_to_endpoint, kaggle_env.KaggleEnv.PROD, dead)
    fails_cleanly(previous, tmp_path, "cannot connect to Kaggle")


def test_a_stalled_server_times_out(fake_kaggle_server, previous, tmp_path):
    fake_kaggle_server.faults[HANDLE] = [fake_kaggle.stall(3)] * 3
    data = KAGGLE.model_copy(update={"download_timeout_s": 0.5, "download_retries": 1})
    fails_cleanly(previous, tmp_path, "did not answer within 0.5 s (2 tries)", data)


@pytest.mark.parametrize("make, expected", [
    (lambda: good_csv()[:200], "corrupt or not a zip"),
    (lambda: archive({"data.csv": good_csv()})[:-40], "corrupt or not a zip"),
    (lambda: archive({"../evil.csv": b"x", "data.csv": good_csv()}), "refusing member '../evil.csv'"),
    (lambda: archive({zipfile.ZipInfo("/abs/data.csv"): good_csv()}), "refusing member '/abs/data.csv'"),
    (lambda: archive({symlink("data.csv", "/etc/passwd"): b"/etc/passwd"}), "links are not allowed"),
    (lambda: archive({"data.csv": b"0" * (3 * 2**20)}), "over the data.max_download_mb cap"),
    (lambda: archive({"other.csv": good_csv()}), "lacks data.csv; it holds: other.csv"),
])
def test_bad_archives_are_refused(fake_kaggle_server, previous, tmp_path, make, expected):
    fake_kaggle_server.archives[HANDLE] = make()
    fails_cleanly(previous, tmp_path, expected, KAGGLE.model_copy(update={"max_download_mb": 1}))


def symlink(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o120777 << 16
    return info


def test_a_csv_with_the_wrong_schema_does_not_replace_good_data(fake_kaggle_server, previous, tmp_path):
    wrong = good_csv().replace(b'"diagnosis"', b'"label"')
    fake_kaggle_server.archives[HANDLE] = archive({"data.csv": wrong})
    message = fails_cleanly(previous, tmp_path, "target column 'diagnosis' is missing", error=DataError)
    assert "data.csv" in message


@pytest.mark.e2e
def test_interrupted_training_leaves_nothing_and_reruns(processed, tmp_path):
    # Batch-1 SGD on tiny params, 8 epochs: 4 runs of about a second each, so the signal sent as the first run's
    # line arrives lands mid-training.
    work, out = tmp_path / "params", tmp_path
    work.mkdir()
    def sgd_for_8_epochs(params: dict) -> None:
        add_variant(params, "optimizers", "sgd")
        params["studies"]["optimizers"]["set"]["epochs"] = 8

    write_tiny_params(work, sgd_for_8_epochs)
    command = train_command("optimizers", "sgd", processed, out)
    env = subprocess_env()
    child = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in child.stdout:  # a line per finished run: training is under way
        if "seed=" in line:
            break
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 130 and "interrupted: nothing was written" in stderr, stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params"]  # neither output nor any staging folder
    rerun = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert (out / "runs" / "metrics.json").is_file() and (out / "models" / "seed_0.keras").is_file()


def test_a_truncated_processed_split_is_one_line_naming_the_file(processed, tmp_path):
    from stages.common.errors import DataError
    from stages.ingest.arrays import load_arrays
    from tests.configs import train_config

    folder = tmp_path / "fashion_mnist"
    shutil.copytree(processed / "fashion_mnist", folder)
    data = (folder / "train.npz").read_bytes()
    (folder / "train.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"train.npz: not a readable split \(BadZipFile: .*\); rebuild it with "
                                        r"`dvc repro -f preprocess@fashion_mnist`"):
        load_arrays(folder, train_config())
