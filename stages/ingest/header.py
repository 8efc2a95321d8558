"""A raw CSV's header, checked without reading the table (the download's check of what it wrote)."""
from __future__ import annotations

import csv
from pathlib import Path

from stages.catalog.datasets import TableSchema
from stages.common.errors import DataError


def check_header(path: Path, schema: TableSchema) -> list[str]:
    """The CSV's header, checked cheaply: present, no repeated names, the target among them."""
    if not path.is_file() or path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty or missing")
    try:
        with open(path, newline="") as handle:
            header = next(csv.reader(handle), [])
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{path}: not a readable CSV ({error})") from None
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise DataError(f"{path}: header repeats column(s) {', '.join(repeated)}")
    if schema.target not in header:
        raise DataError(f"{path}: target column {schema.target!r} is missing; columns are: "
                        f"{', '.join(header[:12])}{' ...' if len(header) > 12 else ''}")
    return header
