"""Cross-fitted selection: each seed's setting chosen on the other seeds' runs, so no compared number chose itself."""
from __future__ import annotations

import math
from collections.abc import Sequence

from stages.catalog.tasks import by_metric

TIE_RULE = "a tie goes to the smaller setting (the smaller learning rate or penalty)"


def _rank(runs: Sequence[dict], select_on: str, higher_is_better: bool) -> tuple[int, float]:
    """(diverged runs, the mean selection score as a loss): smaller is better, as `replicates.choose` orders points."""
    values = [run["final"].get(select_on) for run in runs]
    present = [v for v in values if v is not None and math.isfinite(v)]
    larger_is_better = higher_is_better and select_on == "val_metric"  # else an error or a loss
    loss = math.inf if not present else (-1 if larger_is_better else 1) * sum(present) / len(present)
    return sum(bool(run["final"].get("diverged")) for run in runs), loss


def _setting_order(setting: dict) -> tuple:
    return tuple(value for _, value in sorted(setting.items()))


def choose_on(runs: Sequence[dict], seeds: set[int], select_on: str, higher_is_better: bool) -> dict:
    """The setting whose runs on `seeds` have the fewest divergences, then the best mean score on `select_on`,
    then (a tie) the smallest values."""
    settings: list[dict] = []
    for run in runs:
        if run["setting"] not in settings:
            settings.append(run["setting"])
    return min(settings, key=lambda setting: (
        _rank([r for r in runs if r["setting"] == setting and r["seed"] in seeds], select_on, higher_is_better),
        _setting_order(setting)))


def held_out_runs(variant: dict) -> list[dict]:
    """One run per seed, each at the setting chosen on the other seeds (cross-fitting): the runs whose numbers are
    compared. A variant with one setting keeps its runs; a single seed chooses on itself."""
    metrics, runs = variant["metrics"], variant["runs"]
    if len({tuple(sorted(run["setting"].items())) for run in runs}) == 1:
        return list(runs)
    select_on = metrics.get("select_on", "val_metric")
    higher = by_metric(metrics["metric"]).higher_is_better
    seeds = sorted({run["seed"] for run in runs})
    chosen = []
    for seed in seeds:
        others = set(seeds) - {seed} or {seed}
        setting = choose_on(runs, others, select_on, higher)
        chosen.append(next(run for run in runs if run["seed"] == seed and run["setting"] == setting))
    return chosen


def moved_seeds(held_out: Sequence[dict], best_setting: dict) -> int:
    """How many of the cross-fitted runs (`held_out_runs`) sit at another setting than the one chosen on every seed."""
    return sum(run["setting"] != best_setting for run in held_out)
