"""Tab-separated tables for `dvc plots`: a header row, then one row per point; missing values are empty."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from stages.common import atomic


def write_tsv(path: Path, header: list[str], rows: list[list]) -> None:
    """A tab-separated table, floats to 7 significant digits; missing values are empty cells."""
    frame = pd.DataFrame(rows, columns=header).convert_dtypes()  # nullable dtypes: whole numbers stay whole
    atomic.write_text(path, frame.to_csv(sep="\t", index=False, na_rep="", lineterminator="\n",
                                         float_format="%.7g"))
