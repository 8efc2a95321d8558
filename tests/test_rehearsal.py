"""The rehearsal: Kaggle-layout files of the real sizes, served on 127.0.0.1, through the real client and
`dvc repro`, timed per stage."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest
import yaml

from stages.catalog.datasets import DATASETS
from stages.common.errors import UserError
from stages.tools import kaggle_mirror
from stages.tools.rehearsal import README_END, README_START, SAMPLE_SECONDS, TreeMemory
from tests.conftest import REPO, run
from tests.tiny import TINY_VARY, write_tiny_params


def test_full_size_row_counts_are_kaggles():
    assert kaggle_mirror.FULL_ROWS == {"fashion_mnist": (60_000, 10_000), "breast_cancer": (569,),
                                       "california_housing": (20_640,)}


def test_mirror_files_have_the_kaggle_layouts_at_scale():
    fashion = kaggle_mirror.dataset_files("fashion_mnist", scale=0.01)
    train = pd.read_csv(io.BytesIO(fashion["fashion-mnist_train.csv"]))
    test = pd.read_csv(io.BytesIO(fashion["fashion-mnist_test.csv"]))
    assert (len(train), len(test)) == (600, 100)
    assert list(train.columns) == ["label", *(f"pixel{i}" for i in range(1, 785))]
    pixels = train.drop(columns="label").to_numpy()
    assert pixels.min() == 0 and pixels.max() == 255 and 0.3 < (pixels == 0).mean() < 0.8  # dark background
    assert sorted(train["label"].unique()) == list(range(10))
    housing = pd.read_csv(io.BytesIO(kaggle_mirror.dataset_files("california_housing", scale=0.1)["housing.csv"]))
    assert len(housing) == 2064 and housing["total_bedrooms"].isna().sum() == 21
    assert set(housing["ocean_proximity"]) == {"NEAR BAY", "<1H OCEAN", "INLAND", "NEAR OCEAN"}
    assert housing["median_house_value"].max() <= 500_001
    wdbc = kaggle_mirror.dataset_files("breast_cancer")["data.csv"].decode().splitlines()
    assert len(wdbc) == 570 and all(line.endswith(",") for line in wdbc)
    archives = kaggle_mirror.archives(scale=0.001)
    assert set(archives) == {DATASETS.get(name).kaggle_handle for name in kaggle_mirror.FULL_ROWS}
    assert zipfile.ZipFile(io.BytesIO(archives[DATASETS.get("fashion_mnist").kaggle_handle])).namelist() == [
        "fashion-mnist_train.csv", "fashion-mnist_test.csv"]


def test_mirror_classes_are_learnable():
    """A linear model separates the stand-in's classes well above chance but not perfectly, as on the real data: the
    rehearsal's studies train on something and still have room to differ."""
    from sklearn.linear_model import LogisticRegression

    files = kaggle_mirror.dataset_files("fashion_mnist", scale=0.01)
    train = pd.read_csv(io.BytesIO(files["fashion-mnist_train.csv"]))
    test = pd.read_csv(io.BytesIO(files["fashion-mnist_test.csv"]))
    model = LogisticRegression(max_iter=300).fit(train.drop(columns="label") / 255, train["label"])
    assert 0.5 < model.score(test.drop(columns="label") / 255, test["label"]) < 0.95


def test_tree_memory_measures_every_short_child_at_its_peak():
    """Children shorter than the once-a-second sampling interval, one after another as DVC runs stages, are each
    sampled at their peak: a child that allocates 60 MB 0.3 s after it starts (a stage's imports come first) and
    ends 0.3 s later."""
    child = "import time; time.sleep(0.3); block = bytearray(60_000_000); time.sleep(0.3)"  # bytearray: pages touched
    script = ("import json, subprocess, sys, time\n"
              "windows = []\n"
              "for _ in range(3):\n"
              "    start = time.perf_counter()\n"
              f"    subprocess.run([sys.executable, '-c', {child!r}])\n"
              "    windows.append((start, time.perf_counter()))\n"
              "    time.sleep(0.3)\n"
              "print(json.dumps(windows))\n")
    assert SAMPLE_SECONDS > 0.6  # else steady sampling alone would catch every child and this would prove nothing
    memory = TreeMemory()
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) as parent:
        memory.watch(parent.pid)
        try:
            windows = json.loads(parent.communicate(timeout=60)[0])
        finally:
            memory.stop()
            parent.kill()
    for start, stop in windows:  # perf_counter is the system's monotonic clock, shared by both processes
        assert memory.peak_between(start, stop) > 55, (start, stop, memory.samples)


@pytest.mark.parametrize("scale", ["0", "1.5"])
def test_a_scale_outside_0_1_is_refused(scale, tmp_path, capsys):
    from stages.tools import rehearsal

    with pytest.raises(SystemExit) as done:
        rehearsal.main(["--scale", scale, "--out", str(tmp_path / "r.json")])
    assert done.value.code == 2
    assert f"--scale {float(scale)}: allowed: more than 0, at most 1" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


@pytest.mark.e2e
def test_rehearsal_runs_the_kaggle_path_and_times_every_stage(tmp_path):
    """Also the suite's one `dvc repro` through the real Kaggle client: no trace of the key anywhere it wrote."""
    params = write_tiny_params(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{README_START}\nold\n{README_END}\nafter\n")
    trains = [f"train_classification_losses@{TINY_VARY['classification_losses'][0]}",
              f"train_regression_losses@{TINY_VARY['regression_losses'][0]}"]
    done = run([sys.executable, "-m", "stages.tools.rehearsal", "--scale", "0.002", "--params", str(params),
                "--targets", *trains, "--out", str(tmp_path / "rehearsal.json"), "--readme", str(readme),
                "--work", str(tmp_path / "work")], REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads((tmp_path / "rehearsal.json").read_text())
    assert result["scale"] == 0.002 and result["targets"] == trains
    assert {name: data["source"] for name, data in result["data"].items()} == {
        "fashion_mnist": "kaggle", "california_housing": "kaggle"}
    assert set(result["stages"]) == {"validate", "download@fashion_mnist", "preprocess@fashion_mnist",
                                     "download@california_housing", "preprocess@california_housing", *trains}
    for name, stage in result["stages"].items():
        assert stage["wall_seconds"] > 0 and stage["peak_memory_mb"] > 0, name
    for name in trains:
        assert result["stages"][name]["steps"] > 0 and result["stages"][name]["steps_per_second"] > 0
    assert result["total_seconds"] >= sum(stage["wall_seconds"] for stage in result["stages"].values()) - 1
    text = readme.read_text()
    assert text.startswith("before\n") and "old" not in text and "| train_regression_losses | 1 |" in text
    assert f"--scale 0.002 --targets {' '.join(trains)}`" in text
    assert "canary-" not in done.stdout + done.stderr + json.dumps(result)  # the stand-in's key stays secret
    repo = tmp_path / "work" / "repo"
    assert json.loads((repo / "data" / "processed" / "fashion_mnist" / "meta.json").read_text())["source"] == "kaggle"
    written = [path for path in repo.rglob("*") if path.is_file() and ".git" not in path.parts]
    assert repo / "dvc.lock" in written
    assert not [path for path in written if re.search(rb"canary-[0-9a-f]{24}", path.read_bytes())]  # the key


def test_the_rehearsal_states_each_studys_rows_at_both_sizes_and_the_verdicts_that_changed(tmp_path):
    from stages.tools import rehearsal

    for run, rows in (("default", 1309), ("rehearsed", 1500)):
        (tmp_path / run / "optimizers").mkdir(parents=True)
        (tmp_path / run / "optimizers" / "summary.json").write_text(json.dumps(
            {"adam": {"n_train": rows}, "sgd": {"n_train": rows}, "probe_gain": 0.1}))
        (tmp_path / run / "concepts.json").write_text(json.dumps([
            {"concept": "Adam", "compares": "adam", "verdict": "better", "outcome": "better"},
            {"concept": "SGD", "compares": "sgd", "verdict": "shown", "outcome": "shown" if run == "default" else
             "not resolved", **({} if run == "default" else {"verdict": "not resolved with 5 seeds (adjusted p 0.2)",
                                                             "effect": "-0.01 [-0.03, 0.01]", "p_holm": "0.2",
                                                             "power": "0.31"})}]))
    result = {"study_rows": rehearsal.study_rows(tmp_path / "default", tmp_path / "rehearsed"),
              "concepts": rehearsal.concepts_at_size(tmp_path / "default" / "concepts.json",
                                                     tmp_path / "rehearsed" / "concepts.json")}
    assert result["study_rows"] == {"optimizers": {"default": 1309, "rehearsal": 1500}}
    assert (result["concepts"]["shown_by_default"], result["concepts"]["shown_at_size"]) == (2, 1)
    text = "\n".join(rehearsal.study_table(result))
    assert "| optimizers | 1,309 | 1,500 |" in text
    assert ("- SGD (`sgd`): shown -> not resolved with 5 seeds (adjusted p 0.2) (at this size: -0.01 [-0.03, 0.01]; "
            "adjusted p 0.2, power 0.31)") in text
    # the comparison redone from the kept report once the default run moved: now both read alike
    (tmp_path / "default" / "concepts.json").write_text((tmp_path / "rehearsed" / "concepts.json").read_text())
    (tmp_path / "default" / "optimizers" / "summary.json").write_text(json.dumps({"adam": {"n_train": 1200}}))
    again = rehearsal.refresh(result, tmp_path / "rehearsed", tmp_path / "default")
    assert again["concepts"]["changed"] == []
    assert again["study_rows"] == {"optimizers": {"default": 1200, "rehearsal": 1500}}
    for partial in ({**result, "targets": ["evaluate_optimizers"]}, {"study_rows": result["study_rows"]}):
        with pytest.raises(UserError, match="--refresh: .* a whole-suite rehearsal's result"):
            rehearsal.refresh(partial, tmp_path / "rehearsed", tmp_path / "default")
