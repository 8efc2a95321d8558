"""A study summary's verdicts: Holm's correction over every comparison it reports, and what each one supports."""
from __future__ import annotations

from stages.analysis import statistics
from stages.catalog.tasks import by_metric
from stages.config import ReportConfig


def margin_key(e: dict) -> str | None:
    """The `report.equivalence_margin` key of what an entry is compared on (None: no equivalence test)."""
    compared_on = e.get("compared_on", "test_metric")
    if compared_on == "divergence":
        return None
    return e["metric"] if compared_on in ("test_metric", "overfitting") else compared_on


def improved(e: dict, difference: float) -> bool:
    """True when a difference (variant minus baseline) in what the entry is compared on is an improvement."""
    if e.get("compared_on", "test_metric") == "test_metric":
        return by_metric(e["metric"]).better(difference, 0.0)
    return difference < 0  # a loss or a saturated share: lower is better


def adjust(summary: dict[str, dict], report: ReportConfig, cures: dict[str, dict] | None = None) -> None:
    """Holm's correction over every test the study reports (differences and equivalences with the baseline in all
    conditions, and the cure comparisons), and each comparison's verdict from the adjusted p-values: better, worse,
    equivalent, or not resolved."""
    compared = [e for e in summary.values() if e.get("paired_seeds")] + [
        e for e in (cures or {}).values() if e.get("paired_seeds")]
    for e in [*summary.values(), *(cures or {}).values()]:
        e.update(p_adjusted=None, p_equivalence_adjusted=None, verdict=None)
    adjusted = statistics.holm([e["p_vs_baseline"] for e in compared] + [e["p_equivalence"] for e in compared])
    for index, e in enumerate(compared):
        e["p_adjusted"], e["p_equivalence_adjusted"] = adjusted[index], adjusted[len(compared) + index]
        key = margin_key(e)
        e["verdict"] = verdict(e, report.significance, None if key is None else report.equivalence_margin[key])


def verdict(e: dict, alpha: float, margin: float | None) -> str:
    """What the adjusted tests support for one comparison with the baseline: "better" or "worse" when the adjusted p
    is below alpha and the interval excludes 0 (an event's interval is not the test's, so both are asked),
    "equivalent" when TOST's adjusted p is below alpha and the interval lies inside ±margin (None: no equivalence
    test), else "not resolved"."""
    low, high = e["diff_low"], e["diff_high"]
    if low is None or high is None:
        return "not resolved"
    if e["p_adjusted"] is not None and e["p_adjusted"] < alpha and (low > 0 or high < 0):
        return "better" if improved(e, e["diff_vs_baseline"]) else "worse"
    if margin is not None and e["p_equivalence_adjusted"] is not None and e["p_equivalence_adjusted"] < alpha \
            and -margin < low and high < margin:
        return "equivalent"
    return "not resolved"
