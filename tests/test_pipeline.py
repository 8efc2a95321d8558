"""End to end: the real `dvc repro` of the data stages in a throwaway copy of the repository."""
from __future__ import annotations

import json

import numpy as np
import pytest

from stages.datasets import DATASETS
from tests.conftest import copy_repo, dvc


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    """A repo copy after one offline `dvc repro` of the data stages."""
    repo = copy_repo(tmp_path_factory.mktemp("pipeline") / "repo")
    targets = [f"preprocess@{name}" for name in DATASETS.names]
    result = dvc("repro", *targets, cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    return repo, targets


def test_offline_repro_writes_every_processed_dataset(reproduced):
    repo, _ = reproduced
    for name in DATASETS.names:
        folder = repo / "data" / "processed" / name
        meta = json.loads((folder / "meta.json").read_text())
        assert meta["source"] == "offline" and meta["dataset"] == name
        for split in ("train", "val", "test"):
            assert len(np.load(folder / f"{split}.npz")["y"]) == meta["counts"][split]
        assert json.loads((repo / "data" / "raw" / name / "SOURCE.json").read_text())["source"] == "offline"


def test_second_repro_does_nothing(reproduced):
    repo, targets = reproduced
    result = dvc("repro", *targets, cwd=repo)
    assert result.returncode == 0
    assert "Running stage" not in result.stdout


def test_bad_param_stops_dvc_before_any_output_is_touched(reproduced):
    repo, targets = reproduced
    processed = repo / "data" / "processed" / "breast_cancer" / "train.npz"
    before = processed.read_bytes()
    params = repo / "params.yaml"
    good = params.read_text()
    params.write_text(good.replace("split_seed: 0", "split_seed: -3"))
    try:
        result = dvc("repro", *targets, cwd=repo)
        assert result.returncode != 0
        assert "params.yaml: data.split_seed: -3: must be greater than or equal to 0" in result.stdout + result.stderr
        assert processed.read_bytes() == before
    finally:
        params.write_text(good)
