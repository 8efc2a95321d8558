"""Runs of one variant -> per sweep point mean and spread over seeds, and the point chosen on validation."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from stages.common.numbers import round_sig

# Final measurements summarized over seeds (a run stores them in RunResult.final).
SCALARS = ("val_metric", "best_val_metric", "test_metric", "train_metric", "train_loss", "val_loss",
           "test_loss", "generalization_gap", "weight_sparsity", "val_rmse", "test_rmse", "train_loss_auc",
           "train_loss_epoch_1")
# Per-layer measurements: means over the epoch's training steps (final epoch summarized), and
# measurements on the fixed probe batch (summarized at the final epoch and at initialization).
STEP_LAYERED = ("grad_norm", "update_ratio")
PROBE_LAYERED = ("probe_grad_norm", "preact_grad_norm", "activation_std", "dead_fraction", "saturated_fraction",
                 "symmetric")


def mean_std(values: Sequence[float | None]) -> tuple[float | None, float | None, int]:
    """Mean and sample standard deviation of the values that are not None, and how many there were."""
    present = [v for v in values if v is not None]
    if not present:
        return None, None, 0
    std = float(np.std(present, ddof=1)) if len(present) > 1 else 0.0
    return round_sig(float(np.mean(present))), round_sig(std), len(present)


def mean(values: Sequence[float | None]) -> float | None:
    """Mean of the values that are not None, rounded; None when there are none."""
    return mean_std(values)[0]


def censored_median(epochs: Sequence[int | None]) -> float | None:
    """Median epochs to a target with runs that never reached it counted as infinitely late; None when half or
    more never reached it."""
    if not epochs:
        return None
    median = float(np.median([math.inf if e is None else float(e) for e in epochs]))
    return round_sig(median) if math.isfinite(median) else None


def layer_means(rows: Sequence[list | None]) -> list[float | None] | None:
    """Element-wise mean of per-layer lists (None where no run has a value)."""
    present = [r for r in rows if r is not None]
    if not present:
        return None
    return [mean_std([r[i] for r in present])[0] for i in range(len(present[0]))]


def summarize_point(runs: Sequence, higher_is_better: bool, select_on: str = "val_metric") -> dict:
    """One sweep point's seeds -> {metric: mean, metric_std: std, ...} plus per-layer diagnostics, and its `score`
    on the selection criterion (larger is better)."""
    summary: dict = {"setting": dict(runs[0].point), "seeds": [r.seed for r in runs],
                     "diverged_runs": sum(r.final["diverged"] for r in runs)}
    for key in SCALARS:
        if key in runs[0].final:
            summary[key], summary[f"{key}_std"], _ = mean_std([r.final.get(key) for r in runs])
    reached = [r.final["epochs_to_target"] for r in runs]
    summary["epochs_to_target"] = censored_median(reached)  # not a mean over the runs that got there
    summary["reached_target_runs"] = sum(v is not None for v in reached)
    # A diverged run's weights are not finite: its last diagnostics would read NaN units as dead. They are left
    # out of the final-epoch summaries (and counted); their measurements at initialization stay.
    finished = [r for r in runs if not r.final["diverged"]]
    summary["diagnostics_runs"] = len(finished)
    for key in STEP_LAYERED + PROBE_LAYERED:
        summary[key] = layer_means([r.history[-1].get(key) for r in finished])
    for key in PROBE_LAYERED:
        summary[f"{key}_init"] = layer_means([r.history[0].get(key) for r in runs])
    for key in ("noise_ratio", "noise_scale"):
        summary[key] = mean([r.history[-1].get(key) for r in finished])
    summary["score"] = _score(summary, higher_is_better, select_on)
    return summary


def choose(points: Sequence[dict]) -> dict:
    """The point with the fewest diverged runs, then the best score on the selection criterion."""
    return min(points, key=lambda p: (p["diverged_runs"], -p["score"]))


def mean_curve(histories: Sequence[list[dict]], key: str, layer: int | None = None) -> list[tuple[int, float, float]]:
    """(epoch, mean, std) over runs' histories of one entry (one layer's of a per-layer entry);
    epochs no run reached are left out."""

    def value(row: dict) -> float | None:
        entry = row.get(key)
        if entry is None or layer is None:
            return entry
        return entry[layer] if layer < len(entry) else None

    # NumPy, not a pandas groupby: pandas sums with compensation and computes the spread another way, and its last
    # bits moved curve files after rounding (measured), where results must stay byte-identical.
    curve = []
    for epoch in range(max(len(h) for h in histories)):
        mean, std, n = mean_std([value(h[epoch]) if epoch < len(h) else None for h in histories])
        if n:
            curve.append((epoch, mean, std))
    return curve


def _score(summary: dict, higher_is_better: bool, select_on: str) -> float:
    value = summary.get(select_on)
    if value is None:
        return -math.inf
    return value if higher_is_better and select_on == "val_metric" else -value
