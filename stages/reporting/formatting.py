"""Numbers as the report prints them: a value, an interval, a range of decades."""
from __future__ import annotations


def fmt(value: float | None, digits: int = 3) -> str:
    """A number as the report prints it; None as 'n/a'."""
    if value is None:
        return "n/a"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e4):
        return f"{value:.{max(digits - 1, 1)}e}"
    return f"{value:.{digits}g}"


def interval(low: float | None, high: float | None) -> str:
    """[low, high] as the report prints an interval."""
    return f"[{fmt(low)}, {fmt(high)}]" if low is not None and high is not None else "n/a"


def span(low: float, high: float | None) -> str:
    """A range's width between its bounds: "0.3-0.6", or "≥0.3" with no upper bound."""
    return f"≥{fmt(low, 2)}" if high is None else f"{fmt(low, 2)}-{fmt(high, 2)}"
