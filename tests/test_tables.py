"""The TSV tables `dvc plots` reads: exact text, whole numbers kept whole, floats to 7 digits, gaps empty."""
from __future__ import annotations

import pytest

from stages.analysis.tables import write_tsv


@pytest.mark.parametrize("header, rows, text", [
    (["epoch", "loss", "name"], [[0, 1.23456789, "adam"], [1, None, None]], "epoch\tloss\tname\n0\t1.234568\tadam\n1\t\t\n"),
    (["step", "rate"], [[123456789, 1e-05], [None, 0.3]], "step\trate\n123456789\t1e-05\n\t0.3\n"),
    (["value"], [[1.0], [2.5e20]], "value\n1\n2.5e+20\n"),
    (["loss"], [[10798100.0], [2.30259]], "loss\n1.07981e+07\n2.30259\n"),  # whole floats stay floats
    (["empty"], [], "empty\n"),
])
def test_tsv_text(tmp_path, header, rows, text):
    write_tsv(tmp_path / "t.tsv", header, rows)
    assert (tmp_path / "t.tsv").read_text() == text
