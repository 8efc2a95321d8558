"""Statistics over seeds: 95% t-intervals and Welch's test of a variant against the baseline."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from stages.common.numbers import round_sig


def _present(values: Sequence[float | None]) -> np.ndarray:
    return np.array([v for v in values if v is not None], dtype=float)


def ci95(values: Sequence[float | None]) -> float | None:
    """Half-width of the 95% t-interval of the mean (None with fewer than two values)."""
    data = _present(values)
    if len(data) < 2:
        return None
    return round_sig(stats.t.ppf(0.975, len(data) - 1) * data.std(ddof=1) / math.sqrt(len(data)))


def welch(values: Sequence[float | None], baseline: Sequence[float | None]) -> dict:
    """Difference of means against the baseline and Welch's two-sided p-value (None when undefined)."""
    a, b = _present(values), _present(baseline)
    if len(a) < 2 or len(b) < 2:
        return {"diff_vs_baseline": round_sig(a.mean() - b.mean()) if len(a) and len(b) else None,
                "p_vs_baseline": None}
    diff = a.mean() - b.mean()
    if a.std(ddof=1) == 0 and b.std(ddof=1) == 0:  # no spread at all: the test is undefined
        return {"diff_vs_baseline": round_sig(diff), "p_vs_baseline": 1.0 if diff == 0 else 0.0}
    result = stats.ttest_ind(a, b, equal_var=False)
    return {"diff_vs_baseline": round_sig(diff), "p_vs_baseline": round_sig(float(result.pvalue))}


def log_slope(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Least-squares slope of log(y) against log(x), over the positive pairs."""
    pairs = [(a, b) for a, b in zip(x, y) if a and b and a > 0 and b > 0]
    if len(pairs) < 2:
        return None
    lx, ly = np.log([p[0] for p in pairs]), np.log([p[1] for p in pairs])
    return round_sig(float(np.polyfit(lx, ly, 1)[0]))
