"""Tab-separated tables for `dvc plots`: a header row, then one row per point; missing values are empty."""
from __future__ import annotations

from pathlib import Path

from stages.common import atomic


def write_tsv(path: Path, header: list[str], rows: list[list]) -> None:
    """A tab-separated table; each float to 7 significant digits, other values as written, None as an empty cell.

    Cell by cell on purpose: pandas' `to_csv` formats by column type, and its type inference turned a column of
    whole-number floats into integers (1.07981e+07 became 10798100), moving curve files."""
    cell = lambda v: "" if v is None else (f"{v:.7g}" if isinstance(v, float) else str(v))  # noqa: E731
    atomic.write_text(path, "\n".join("\t".join(map(cell, row)) for row in [header, *rows]) + "\n")
