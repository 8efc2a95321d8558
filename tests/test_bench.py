"""The benchmark runs end to end at a tiny size (its timings are never asserted)."""
from __future__ import annotations

from stages import bench


def test_tiny_benchmark_measures_every_workload_and_writes_the_table(processed, tmp_path):
    result = bench.benchmark("tiny", processed / "fashion_mnist", rss=False)
    for workload in ("digits", "sweep", "wide", "sgd1", "peak_gflops", "ratios", "machine"):
        assert workload in result
    assert set(result["digits"]) == {"engine", "keras_fit", "sklearn", "numpy_reference"}
    assert all(entry["samples_per_s"] > 0 and 0 <= entry["val_accuracy"] <= 1 for entry in result["digits"].values())
    assert set(result["sweep"]) == {"engine", "sklearn", "keras_fit"}
    assert result["wide"]["engine"]["share_of_peak"] > 0
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{bench.README_START}\nold\n{bench.README_END}\noutro\n")
    bench.update_readme(readme, bench.table(result))
    text = readme.read_text()
    assert "old" not in text and "| digits: engine vs Keras `fit`" in text and text.endswith("outro\n")
