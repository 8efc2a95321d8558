"""The README's `dvc metrics diff` example is the real output, framed by the commands that made it."""
from __future__ import annotations

from stages.tools import bench, metrics_demo


def test_the_diff_goes_between_the_markers_with_its_commands(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{metrics_demo.README_START}\nold\n{metrics_demo.README_END}\nrest\n")
    printed = "| Metric | HEAD | exp | Change |\n| adam.test_metric | 0.97 | 0.96 | -0.01 |\n"
    bench.update_readme(readme, metrics_demo.section("studies.optimizers.set.epochs=10", printed),
                        metrics_demo.README_START, metrics_demo.README_END)
    text = readme.read_text()
    assert "old" not in text and text.startswith("intro\n") and text.endswith("rest\n")
    assert "$ dvc exp run --temp -S studies.optimizers.set.epochs=10" in text
    assert "| adam.test_metric | 0.97 | 0.96 | -0.01 |\n```" in text
