"""The benchmark runs end to end at a tiny size (its timings are never asserted)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil
import pytest

from stages.tools import bench
from tests.tiny import add_variant, write_tiny_params


@pytest.mark.e2e
def test_tiny_benchmark_measures_every_workload_and_writes_the_table(processed, tmp_path):
    result = bench.benchmark("tiny", processed / "fashion_mnist", memory=False)
    for workload in ("digits", "sweep", "wide", "wide_adam", "sgd1", "kaggle_b32", "kaggle_b1", "peak_gflops", "ratios",
                     "machine"):
        assert workload in result
    assert set(result["digits"]) == {"engine", "keras_fit", "sklearn", "numpy_reference"}
    assert all(entry["samples_per_s"] > 0 and 0 <= entry["val_accuracy"] <= 1 for entry in result["digits"].values())
    assert set(result["sweep"]) == {"engine", "sklearn", "keras_fit"}
    assert result["wide"]["engine"]["share_of_peak"] > 0 and result["wide_adam"]["keras_fit"]["share_of_peak"] > 0
    for name in ("kaggle_b32", "kaggle_b1"):  # the stage's own path: diagnostics on, per-epoch evaluation
        assert set(result[name]) == {"engine", "keras_fit"}
        for entry in result[name].values():
            assert entry["steps_per_s"] > 0 and 0 < entry["share_of_peak"] < 1
            assert entry["overhead_us_per_step"] > 0  # no step is faster than its arithmetic at peak
    assert result["ratios"]["kaggle_b1_steps_per_s"] == result["kaggle_b1"]["engine"]["steps_per_s"]
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{bench.README_START}\nold\n{bench.README_END}\noutro\n")
    bench.update_readme(readme, bench.table(result))
    text = readme.read_text()
    assert "old" not in text and "| digits: engine vs Keras `fit`" in text and text.endswith("outro\n")
    assert "| Kaggle size, stage path, batch-1 SGD: steps/s on one core" in text


def test_memory_is_summed_over_the_stage_and_its_workers():
    """The tree's memory counts a grandchild too: a parent that holds 200 MB in its child reads at least that."""
    code = ("import subprocess, sys, time; child = subprocess.Popen([sys.executable, '-c', "
            "'import time; block = bytearray(200 * 2**20); time.sleep(30)']); time.sleep(30)")
    parent = subprocess.Popen([sys.executable, "-c", code])
    try:
        for _ in range(500):  # until the grandchild has filled its block (slower while other tests run)
            if bench.tree_pss_kb(parent.pid, include_root=False) > 200 * 1024:
                break
            time.sleep(0.05)
        assert bench.tree_pss_kb(parent.pid) > 200 * 1024
        # the rehearsal's view leaves the root (DVC itself) out; a process starting elsewhere meanwhile changes the
        # shares of the libraries the root maps, so the two are read a few times for one quiet pair
        pairs = [(bench.tree_pss_kb(parent.pid, include_root=False), bench.tree_pss_kb(parent.pid)) for _ in range(5)]
        assert all(descendants > 200 * 1024 for descendants, _ in pairs)
        assert any(descendants < total for descendants, total in pairs), pairs
        assert bench.tree_pss_kb(os.getpid()) > 10_000
    finally:
        for child in psutil.Process(parent.pid).children(recursive=True):
            child.kill()
        parent.kill()
        parent.wait()
    assert bench.tree_pss_kb(parent.pid) == 0  # exited


@pytest.mark.e2e
def test_train_stage_memory_runs_the_real_stage(processed, tmp_path):
    """The memory row runs the train stage's real command line (a changed argument list must fail here), on tiny
    params."""
    write_tiny_params(tmp_path, lambda params: add_variant(params, "optimizers", "adam"))
    assert 100 < bench.train_stage_memory(processed / "fashion_mnist", tmp_path) < 4096
