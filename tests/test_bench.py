"""The benchmark runs end to end at a tiny size (its timings are never asserted)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from stages.tools import bench


def test_tiny_benchmark_measures_every_workload_and_writes_the_table(processed, tmp_path):
    result = bench.benchmark("tiny", processed / "fashion_mnist", memory=False)
    for workload in ("digits", "sweep", "wide", "wide_adam", "sgd1", "peak_gflops", "ratios", "machine"):
        assert workload in result
    assert set(result["digits"]) == {"engine", "keras_fit", "sklearn", "numpy_reference"}
    assert all(entry["samples_per_s"] > 0 and 0 <= entry["val_accuracy"] <= 1 for entry in result["digits"].values())
    assert set(result["sweep"]) == {"engine", "sklearn", "keras_fit"}
    assert result["wide"]["engine"]["share_of_peak"] > 0 and result["wide_adam"]["keras_fit"]["share_of_peak"] > 0
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{bench.README_START}\nold\n{bench.README_END}\noutro\n")
    bench.update_readme(readme, bench.table(result))
    text = readme.read_text()
    assert "old" not in text and "| digits: engine vs Keras `fit`" in text and text.endswith("outro\n")


def test_memory_is_summed_over_the_stage_and_its_workers():
    code = "import subprocess, time; child = subprocess.Popen(['sleep', '30']); time.sleep(30)"
    parent = subprocess.Popen([sys.executable, "-c", code])
    try:
        for _ in range(100):  # until the grandchild exists
            tree = bench._process_tree(parent.pid)
            if len(tree) == 2:
                break
            time.sleep(0.05)
        assert tree[0] == parent.pid and len(tree) == 2
        assert bench._pss_kb(os.getpid()) > 10_000 and bench._pss_kb(-1) == 0
    finally:
        for pid in reversed(bench._process_tree(parent.pid)):
            os.kill(pid, 9)
        parent.wait()
