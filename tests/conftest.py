"""Shared fixtures: a fake Kaggle on 127.0.0.1, a network safety net, and throwaway copies of the repo."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stages.tools import kaggle_mirror as fake_kaggle
from stages.tools.workspace import REPO, copy_repo

KAGGLE_HANDLES = {
    "zalando-research/fashionmnist": fake_kaggle.fashion_csvs,
    "uciml/breast-cancer-wisconsin-data": fake_kaggle.wdbc_csv,
    "camnugent/california-housing-prices": fake_kaggle.housing_csv,
}


@pytest.fixture(autouse=True)
def no_stray_traffic(monkeypatch):
    """Any request not meant for 127.0.0.1 goes to a dead local proxy instead of the internet."""
    for name, value in fake_kaggle.offline_guard().items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def kaggle_home(tmp_path, monkeypatch):
    """A home folder with no Kaggle credentials anywhere."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(home / ".kaggle"))
    for name in ("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def fake_kaggle_server(kaggle_home, monkeypatch):
    """A running fake Kaggle serving tiny archives of the three datasets, with credentials set."""
    from kagglesdk import kaggle_env

    with fake_kaggle.FakeKaggle() as server:
        for handle, make in KAGGLE_HANDLES.items():
            server.archives[handle] = fake_kaggle.zip_bytes(make())
        for name, value in fake_kaggle.client_env(server, kaggle_home).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setitem(kaggle_env._env_to_endpoint, kaggle_env.KaggleEnv.PROD, server.url)
        yield server


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a child process: this interpreter's bin first on PATH, quiet TensorFlow."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(extra)
    return env


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """Run a command, capturing text output, never raising on failure."""
    return subprocess.run(args, cwd=cwd, env=subprocess_env(**env), capture_output=True, text=True,
                          timeout=1800)


def dvc(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """Run the dvc command line of this interpreter's environment."""
    return run([sys.executable, "-m", "dvc", *args], cwd, **env)


@pytest.fixture
def repo_copy(tmp_path) -> Path:
    """A throwaway copy of the repository for one test."""
    return copy_repo(tmp_path / "repo")


@pytest.fixture(scope="session")
def offline_raw(tmp_path_factory) -> Path:
    """data/raw/<dataset> for every dataset, written by the offline stand-ins."""
    from stages import config
    from stages.catalog.datasets import DATASETS
    from stages.ingest.raw import download

    root = tmp_path_factory.mktemp("raw")
    data = config.load(REPO / "params.yaml").data
    for name in DATASETS.names:
        download(DATASETS.get(name), data, root / name)
    return root


@pytest.fixture(scope="session")
def processed(offline_raw, tmp_path_factory) -> Path:
    """data/processed/<dataset> for every dataset, from the offline stand-ins."""
    from stages import config
    from stages.catalog.datasets import DATASETS
    from stages.ingest.processed import preprocess

    root = tmp_path_factory.mktemp("processed")
    data = config.load(REPO / "params.yaml").data
    for name in DATASETS.names:
        preprocess(DATASETS.get(name), data, offline_raw / name, root / name)
    return root
