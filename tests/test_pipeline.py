"""End to end: the real `dvc repro` in a throwaway copy of the repository, on a tiny parameter set."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import yaml

from stages.datasets import DATASETS
from tests.conftest import copy_repo, dvc, run

TINY = {"epochs": 2, "seeds": [0, 1], "sweep": {"learning_rate": [0.01, 0.03]}, "hidden": [16]}


def set_params(repo, section: str, values: dict) -> None:
    """Update one section of the copy's params.yaml."""
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params[section].update(values)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    """A repo copy after one offline `dvc repro` of the whole pipeline on tiny params."""
    repo = copy_repo(tmp_path_factory.mktemp("pipeline") / "repo")
    set_params(repo, "defaults", TINY)
    result = dvc("repro", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    return repo


def test_offline_repro_writes_every_processed_dataset(reproduced):
    for name in DATASETS.names:
        folder = reproduced / "data" / "processed" / name
        meta = json.loads((folder / "meta.json").read_text())
        assert meta["source"] == "offline" and meta["dataset"] == name
        for split in ("train", "val", "test"):
            assert len(np.load(folder / f"{split}.npz")["y"]) == meta["counts"][split]
        assert json.loads((reproduced / "data" / "raw" / name / "SOURCE.json").read_text())["source"] == "offline"


def test_train_stage_writes_models_metrics_and_curves(reproduced):
    metrics = json.loads((reproduced / "reports" / "defaults" / "metrics.json").read_text())
    assert metrics["best_setting"]["learning_rate"] in (0.01, 0.03)
    assert [p["setting"]["learning_rate"] for p in metrics["points"]] == [0.01, 0.03]
    assert metrics["diverged_runs"] == 0 and 0 < metrics["val_metric"] <= 1
    for key in ("val_metric_std", "test_metric", "generalization_gap", "grad_norm", "dead_fraction", "noise_scale"):
        assert metrics[key] is not None, key
    curve = (reproduced / "reports" / "defaults" / "plots" / "metrics" / "val_loss.tsv").read_text().split("\n")
    assert curve[0] == "step\tval_loss" and len([line for line in curve[1:] if line]) == 3  # epochs 0..2
    history = json.loads((reproduced / "reports" / "defaults" / "history.json").read_text())
    assert len(history["runs"]) == 4  # 2 learning rates x 2 seeds
    code = ("import keras, sys; m = keras.models.load_model(sys.argv[1], safe_mode=True); "
            "print(m.output_shape[-1])")
    loaded = run([sys.executable, "-c", code, "models/defaults/seed_1.keras"], reproduced)
    assert loaded.stdout.strip().splitlines()[-1] == "10", loaded.stderr
    shown = dvc("metrics", "show", "--json", cwd=reproduced)
    assert "val_metric" in shown.stdout


def test_second_repro_does_nothing(reproduced):
    result = dvc("repro", cwd=reproduced)
    assert result.returncode == 0
    assert "Running stage" not in result.stdout


def test_training_is_byte_identical_on_rerun(reproduced):
    outputs = []
    for name in ("a", "b"):
        result = run([sys.executable, "-m", "stages.train", "--study", "defaults", "--data",
                      "data/processed/fashion_mnist", "--models", f"rerun/{name}/models", "--out",
                      f"rerun/{name}/reports"], reproduced)
        assert result.returncode == 0, result.stderr
        folder = reproduced / "rerun" / name / "reports"
        outputs.append({str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
                        if p.is_file() and p.name != "timing.json"})
    assert outputs[0] == outputs[1]
    assert "metrics.json" in outputs[0] and "history.json" in outputs[0]


def test_changed_epochs_rerun_training_only(reproduced):
    result = dvc("exp", "run", "-S", "defaults.epochs=3", cwd=reproduced)
    assert result.returncode == 0, result.stdout + result.stderr
    ran = [line for line in result.stdout.splitlines() if line.startswith("Running stage")]
    assert ran == ["Running stage 'validate':", "Running stage 'train':"]  # validate is cheap and always first
    assert "3" in dvc("exp", "show", "--json", cwd=reproduced).stdout


def test_bad_param_stops_dvc_before_any_output_is_touched(reproduced):
    processed = reproduced / "data" / "processed" / "breast_cancer" / "train.npz"
    before = processed.read_bytes()
    params = reproduced / "params.yaml"
    good = params.read_text()
    params.write_text(good.replace("split_seed: 0", "split_seed: -3"))
    try:
        result = dvc("repro", cwd=reproduced)
        assert result.returncode != 0
        assert "params.yaml: data.split_seed: -3: must be greater than or equal to 0" in result.stdout + result.stderr
        assert processed.read_bytes() == before
        assert (reproduced / "models" / "defaults" / "seed_0.keras").exists()
    finally:
        params.write_text(good)
