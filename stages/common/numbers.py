"""The precision of every summary file."""
from __future__ import annotations

import math


def round_sig(value: float | None) -> float | None:
    """Six significant digits, the precision of every summary file; None and non-finite values become None."""
    return float(f"{value:.6g}") if value is not None and math.isfinite(value) else None
