"""A variant's runs on forked worker processes: the same bytes as in one process, and the worker count's rules."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from stages.nn import parallel, runtime
from stages.common.errors import UserError
from stages import config
from tests.configs import train_config
from tests.conftest import REPO, run, train_command
from tests.tiny import add_variant, write_tiny_params


def train_stage(processed, params: Path, out: Path, workers: str):
    """classification_losses@mse on tiny params (4 small runs) with TRAIN_WORKERS set; the completed process."""
    return run(train_command("classification_losses", "mse", processed, out), params,
               TRAIN_WORKERS=workers)


@pytest.mark.e2e
def test_workers_change_the_speed_not_the_results(processed, tmp_path):
    params = tmp_path / "params"
    params.mkdir()
    written = write_tiny_params(params, lambda p: add_variant(p, "classification_losses", "mse"))
    mse = config.study_configs(config.load(written), "classification_losses", "mse")[0][1]
    for workers in ("1", "2"):
        done = train_stage(processed, params, tmp_path / workers, workers)
        assert done.returncode == 0, done.stderr[-2000:]
        timing = json.loads((tmp_path / workers / "timing" / "timing.json").read_text())
        assert not (tmp_path / workers / "runs" / "timing.json").exists()  # wall-clock times live apart
        assert timing["workers"] == int(workers)
        assert timing["training_seconds"] > 0 and len(timing["runs"]) == len(mse.runs())
    for name in ("metrics.json", "history.json"):
        assert (tmp_path / "1" / "runs" / name).read_bytes() == (tmp_path / "2" / "runs" / name).read_bytes()
    assert sorted(p.name for p in (tmp_path / "2" / "models").iterdir()) == [
        "config.json", *(f"seed_{seed}.keras" for seed in mse.seeds)]


@pytest.mark.e2e
def test_a_bad_worker_count_is_one_line_before_training(processed, tmp_path):
    done = train_stage(processed, REPO, tmp_path, "two")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "error: environment variable TRAIN_WORKERS='two': allowed: a whole number >= 1")
    assert not tmp_path.joinpath("runs").exists() and not tmp_path.joinpath("models").exists()
    assert not tmp_path.joinpath("timing").exists()


def test_worker_count_follows_the_step_size_and_the_override(monkeypatch):
    monkeypatch.delenv(parallel.WORKERS_ENV, raising=False)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    assert parallel.worker_count(runtime.SMALL_STEP_MACS - 1, runs=12) == 2
    assert parallel.worker_count(runtime.SMALL_STEP_MACS - 1, runs=1) == 1
    assert parallel.worker_count(runtime.SMALL_STEP_MACS, runs=12) == 1  # TensorFlow's threads serve big steps
    monkeypatch.setattr(parallel.sys, "platform", "darwin")
    assert parallel.worker_count(runtime.SMALL_STEP_MACS - 1, runs=12) == 1  # no fork outside Linux
    monkeypatch.setattr(parallel.sys, "platform", "linux")
    monkeypatch.setattr(parallel.tf.config, "list_physical_devices", lambda kind: ["/physical_device:GPU:0"])
    assert parallel.worker_count(runtime.SMALL_STEP_MACS - 1, runs=12) == 1  # one process owns the GPU
    monkeypatch.setenv(parallel.WORKERS_ENV, "3")
    assert parallel.worker_count(runtime.SMALL_STEP_MACS, runs=12) == 3
    for bad in ("0", "-1", "1.5"):
        monkeypatch.setenv(parallel.WORKERS_ENV, bad)
        with pytest.raises(UserError, match=parallel.WORKERS_ENV):
            parallel.worker_count(1000, runs=12)


def test_after_tensorflow_started_the_runs_stay_in_process(processed):
    import tensorflow as tf

    from stages.ingest.arrays import load_arrays

    tf.constant(0.0).numpy()  # start the runtime: forking now would copy its threads' locks
    assert not parallel.forkable()
    cfg = train_config(dataset="breast_cancer", loss="binary_crossentropy", hidden=[4], epochs=1, seeds=[0, 1],
                       diagnostics=False)
    runs, workers = parallel.train_runs(cfg, load_arrays(processed / "breast_cancer", cfg), [({}, 1), ({}, 0)],
                                        workers=2)
    assert workers == 1 and [r.seed for r in runs] == [1, 0]


class SlowRuns:
    """Stands in for the pool's result iterator: `waits` timeouts before each result."""

    def __init__(self, results: list, waits: int):
        self.results, self.waits, self.pending = list(results), waits, waits

    def next(self, timeout: float):
        if self.pending:
            self.pending -= 1
            raise parallel.multiprocessing.TimeoutError
        self.pending = self.waits
        return self.results.pop(0)


def test_the_parent_reports_while_its_workers_train():
    waited = []
    arriving = SlowRuns([(1, "b"), (0, "a")], waits=3)
    assert parallel._next_result(arriving, lambda: waited.append(1)) == (1, "b")
    assert parallel._next_result(arriving, None) == (0, "a")  # no callback: it just keeps waiting
    assert len(waited) == 3
