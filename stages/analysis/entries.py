"""One variant's summary entry: what it was chosen on, its test metric, its comparison with the baseline and its
diagnostics."""
from __future__ import annotations

import math

import numpy as np

from stages.analysis import replicates, selection, statistics
from stages.analysis.study_summary import margin_key
from stages.analysis.trained import init_noise_ratio
from stages.catalog.tasks import by_metric
from stages.common.numbers import round_sig
from stages.config import ReportConfig


def entry(variant: dict, baseline: dict | None, report: ReportConfig) -> dict:
    """The summary of one variant: the validation metric it was chosen on, the held-out test metric with its 95%
    interval, the paired comparison with the baseline on test (None for the baseline itself), diagnostics."""
    metrics, runs = variant["metrics"], selection.held_out_runs(variant)
    finals = {run["seed"]: run["final"] for run in runs}
    result = {key: metrics.get(key) for key in (
        "val_metric", "val_metric_std", "test_metric", "test_metric_std", "train_metric", "train_loss",
        "val_loss", "generalization_gap", "epochs_to_target", "reached_target_runs", "diverged_runs",
        "diagnostics_runs", "best_setting", "weight_sparsity", "noise_ratio", "noise_scale", "test_rmse", "metric",
        "n_train", "n_val", "n_test", "steps_per_epoch")}
    result["setting_on_grid_edge"] = grid_edges(metrics["best_setting"], metrics["points"], report.lr_tolerance)
    # The compared numbers come from the cross-fitted runs (each seed at the setting the other seeds chose), the
    # validation metric and the diagnostics from the setting chosen on every seed.
    result["test_metric"], result["test_metric_std"], _ = replicates.mean_std([f["test_metric"] for f in finals.values()])
    result["diverged_runs"] = sum(bool(f["diverged"]) for f in finals.values())
    result["moved_seeds"] = selection.moved_seeds(runs, metrics["best_setting"])
    counted = test_examples(metrics)
    result["test_low"], result["test_high"] = statistics.mean_interval([f["test_metric"] for f in finals.values()],
                                                                        counted)
    # What the study compares: the held-out test metric, or the criterion the sweep selected on when that is the
    # training loss (an optimizer's speed is a claim about the training loss, not about held-out data).
    compared_on = "train_loss_auc" if metrics.get("select_on") == "train_loss_auc" else "test_metric"
    result["compared_on"] = compared_on
    if compared_on == "train_loss_auc":
        result["train_loss_auc"] = replicates.mean([f["train_loss_auc"] for f in finals.values()])
        result["train_loss_epoch_1"] = replicates.mean([f["train_loss_epoch_1"] for f in finals.values()])
        result["train_loss_auc_low"], result["train_loss_auc_high"] = statistics.t_interval(
            [f["train_loss_auc"] for f in finals.values()])
    against = {run["seed"]: run["final"] for run in selection.held_out_runs(baseline)} if baseline is not None else {}
    seeds = sorted(finals.keys() & against.keys())  # the baseline itself: no pairs, every comparison None
    result.update(statistics.paired([finals[s][compared_on] for s in seeds], [against[s][compared_on] for s in seeds],
                                    report.equivalence_margin[margin_key(result)]))
    result["gradient_noise"] = metrics.get("noise_ratio")  # relative spread of mini-batch gradients, final epoch
    result["runs"] = len(finals)
    result["target"] = metrics.get("target")
    result["noise_ratio_init"] = init_noise_ratio(variant)
    for when, suffix in ((metrics, ""), ({k.removesuffix("_init"): v for k, v in metrics.items()
                                          if k.endswith("_init")}, "_init")):
        norms = when.get("preact_grad_norm") or []
        result[f"grad_norm_first_over_last{suffix}"] = (
            _ratio(norms[0], norms[-1]) if len(norms) >= 2 else None)
        # A layer whose units are all the same (a symmetric start) is reported as symmetric, not as dead.
        symmetric = [bool(v and v > 0.5) for v in (when.get("symmetric") or [])]
        result[f"symmetric_layers{suffix}"] = sum(symmetric)
        for key in ("dead_fraction", "saturated_fraction"):
            layers = [v for i, v in enumerate(when.get(key) or [])
                      if v is not None and not (i < len(symmetric) and symmetric[i])]
            result[f"{key}{suffix}"] = round_sig(sum(layers) / len(layers)) if layers else None
    result.update(learning_rate_findings(metrics, report.lr_tolerance))
    result.update(failure_evidence(runs, report))
    return result


def failure_evidence(runs: list[dict], report: ReportConfig) -> dict:
    """Per-run failure signs of the chosen runs, counted or summarized over seeds: nets born dead (constant output
    at initialization) and collapsed by the end, and the top hidden layer's saturation: its peak over epochs, the
    epoch of the peak and the first later epoch below `report.saturated_fraction` (recovered)."""
    histories = [run["history"] for run in runs]
    constant = lambda row: row.get("constant_output") == 1  # noqa: E731
    measured = any(h[0].get("constant_output") is not None for h in histories)  # not with diagnostics off
    result = {"born_dead_runs": sum(constant(h[0]) for h in histories) if measured else None,
              "collapsed_runs": sum(constant(h[-1]) for h in histories) if measured else None}
    tops = [top_saturation(h, report.saturated_fraction) for h in histories]
    if not any(top is not None for top in tops):
        return result
    peaks, peak_epochs, recoveries = zip(*[top for top in tops if top is not None])
    result.update(top_saturation_peak=replicates.mean(peaks),
                  top_saturation_peak_epoch=replicates.censored_median(peak_epochs),
                  top_saturation_recovered=replicates.censored_median(recoveries))
    return result


def top_saturation(history: list[dict], threshold: float) -> tuple[float, int, int | None] | None:
    """The top hidden layer's saturated share over a run's epochs: its peak, the peak's epoch, and the first epoch
    from the peak on below `threshold` (None: never); None for a net without saturating units."""
    top = [(row.get("saturated_fraction") or [None])[-1] for row in history]
    if all(v is None for v in top):
        return None
    peak_epoch = int(np.argmax([-1.0 if v is None else v for v in top]))
    recovered = next((epoch for epoch in range(peak_epoch, len(top)) if top[epoch] is not None and top[epoch] < threshold),
                     None)
    return top[peak_epoch], peak_epoch, recovered


def test_examples(metrics: dict) -> int | None:
    """The test examples behind a share-type metric (accuracy), for intervals that also resample them; None for an
    error such as MAE."""
    return metrics.get("n_test") if by_metric(metrics["metric"]).higher_is_better else None


def grid_edges(chosen: dict[str, float], points: list[dict], tolerance: float) -> list[str]:
    """The swept settings whose chosen value is the smallest or largest of its grid and beats the next value
    inward by more than `tolerance` (the metric's noise band; no divergence on the chosen side either): the
    optimum may lie outside the grid. Within the band the response is flat there, as for a net that learns
    nothing at any rate."""
    edges = []
    for key, value in chosen.items():
        grid = sorted({p["setting"][key] for p in points})
        if len(grid) < 2 or value not in (grid[0], grid[-1]):
            continue
        inward = grid[1] if value == grid[0] else grid[-2]
        best = next(p for p in points if p["setting"] == chosen)
        neighbour = next(p for p in points if p["setting"] == {**chosen, key: inward})
        if neighbour["diverged_runs"] > best["diverged_runs"] or neighbour["score"] < best["score"] - tolerance:
            edges.append(key)
    return edges


def learning_rate_findings(metrics: dict, tolerance: float) -> dict:
    """Best learning rate; the decades of rates within `tolerance` of the best, at least (from the good rates at its
    ends) and at most (up to the first rate outside it on each side: the grid's spacing bounds the range, so a
    coarser grid moves the first, never past the second), and whether that range reaches an end of the grid (then
    it has no upper bound); the share of the grid outside."""
    points = [p for p in metrics["points"] if "learning_rate" in p["setting"]]
    if len(points) < 2:
        return {}
    # a point with a diverged run is never chosen while one without is (replicates.choose), so it sets no best
    clean = [p for p in points if p["diverged_runs"] == 0 and p["score"] is not None and math.isfinite(p["score"])]
    best = max((p["score"] for p in clean), default=None)
    good = [p["setting"]["learning_rate"] for p in clean if p["score"] >= best - tolerance]
    grid = [p["setting"]["learning_rate"] for p in points]
    below = [rate for rate in grid if good and rate < min(good)]
    above = [rate for rate in grid if good and rate > max(good)]
    return {"best_learning_rate": metrics["best_setting"].get("learning_rate"),
            "lr_good_range_decades": round_sig(math.log10(max(good) / min(good))) if good else None,
            "lr_good_range_max_decades": (round_sig(math.log10(min(above) / max(below)))
                                          if below and above else None),
            "lr_good_range_at_edge": bool(good) and not (below and above),
            "lr_sensitivity": round_sig(1 - len(good) / len(points))}


def summarize_study(variants: dict[str, dict], baseline: str, report: ReportConfig) -> dict:
    """{variant: entry} for one condition's variants (in params order)."""
    return {name: entry(variant, variants[baseline] if name != baseline else None, report)
            for name, variant in variants.items()}


def _ratio(a: float | None, b: float | None) -> float | None:
    return round_sig(a / b) if a is not None and b else None
