"""One study's trained variants -> summary.json ({variant: {metric: value}}), findings and wide curves."""
from __future__ import annotations

import json
import math
from pathlib import Path

from stages.analysis import replicates, statistics
from stages.catalog.tasks import by_metric
from stages.common.numbers import round_sig
from stages.config import ReportConfig

# Columns of the long per-variant tables used for bar and scatter charts.
FINAL_COLUMNS = ("train_metric", "val_metric", "test_metric", "generalization_gap", "weight_sparsity")


def load_variant(folder: Path) -> dict:
    """A trained variant (one condition): its metrics, every run's history and the timings."""
    read = lambda name: json.loads((folder / name).read_text())  # noqa: E731
    return {"metrics": read("metrics.json"), "runs": read("history.json")["runs"], "timing": read("timing.json")}


def chosen_runs(variant: dict) -> list[dict]:
    """The runs (one per seed) of the sweep point the variant chose on validation."""
    best = variant["metrics"]["best_setting"]
    return [run for run in variant["runs"] if run["setting"] == best]


def histories(variant: dict) -> list[list[dict]]:
    """The per-epoch histories of the chosen runs."""
    return [run["history"] for run in chosen_runs(variant)]


def entry(variant: dict, baseline: dict | None, report: ReportConfig) -> dict:
    """The summary of one variant: the validation metric it was chosen on, the held-out test metric with its 95%
    interval, the paired comparison with the baseline on test (None for the baseline itself), diagnostics."""
    metrics, runs = variant["metrics"], chosen_runs(variant)
    finals = {run["seed"]: run["final"] for run in runs}
    result = {key: metrics.get(key) for key in (
        "val_metric", "val_metric_std", "test_metric", "test_metric_std", "train_metric", "train_loss",
        "val_loss", "generalization_gap", "epochs_to_target", "reached_target_runs", "diverged_runs",
        "diagnostics_runs", "best_setting", "weight_sparsity", "noise_ratio", "noise_scale", "test_rmse", "metric",
        "n_val", "n_test")}
    result["setting_on_grid_edge"] = grid_edges(metrics["best_setting"], metrics["points"], report.lr_tolerance)
    counted = metrics.get("n_test") if by_metric(metrics["metric"]).higher_is_better else None  # accuracy: a share
    result["test_low"], result["test_high"] = statistics.mean_interval([f["test_metric"] for f in finals.values()],
                                                                        counted)
    against = {run["seed"]: run["final"] for run in chosen_runs(baseline)} if baseline is not None else {}
    seeds = sorted(finals.keys() & against.keys())  # the baseline itself: no pairs, every comparison None
    result.update(statistics.paired([finals[s]["test_metric"] for s in seeds],
                                    [against[s]["test_metric"] for s in seeds], counted,
                                    report.equivalence_margin[metrics["metric"]]))
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
    return result


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


def init_noise_ratio(variant: dict) -> float | None:
    """Mean over the chosen runs of the relative gradient noise measured at initialization."""
    return replicates.mean_std([run["history"][0].get("noise_ratio") for run in chosen_runs(variant)])[0]


def learning_rate_findings(metrics: dict, tolerance: float) -> dict:
    """Best learning rate; the decades of rates within `tolerance` of the best; the share of the grid outside."""
    points = [p for p in metrics["points"] if "learning_rate" in p["setting"]]
    if len(points) < 2:
        return {}
    best = max(p["score"] for p in points)
    good = [p["setting"]["learning_rate"] for p in points
            if p["diverged_runs"] == 0 and p["score"] is not None and p["score"] >= best - tolerance]
    return {"best_learning_rate": metrics["best_setting"].get("learning_rate"),
            "lr_good_range_decades": round_sig(math.log10(max(good) / min(good))) if good else None,
            "lr_sensitivity": round_sig(1 - len(good) / len(points))}


def summarize_study(variants: dict[str, dict], baseline: str, report: ReportConfig) -> dict:
    """{variant: entry} for one condition's variants (in `vary` order)."""
    return {name: entry(variant, variants[baseline] if name != baseline else None, report)
            for name, variant in variants.items()}


def adjust(summary: dict[str, dict], report: ReportConfig) -> None:
    """Holm's correction over every test the study's summary holds (differences and equivalences, all conditions),
    and each comparison's verdict from the adjusted p-values: better, worse, equivalent, or not resolved."""
    for e in summary.values():
        e.update(p_adjusted=None, p_equivalence_adjusted=None, verdict=None)
    keys = [key for key, e in summary.items() if e.get("paired_seeds")]
    tests = [summary[k]["p_vs_baseline"] for k in keys] + [summary[k]["p_equivalence"] for k in keys]
    adjusted = statistics.holm(tests)
    for index, key in enumerate(keys):
        e = summary[key]
        e["p_adjusted"], e["p_equivalence_adjusted"] = adjusted[index], adjusted[len(keys) + index]
        e["verdict"] = verdict(e, report.significance, report.equivalence_margin[e["metric"]])


def verdict(e: dict, alpha: float, margin: float) -> str:
    """What the adjusted tests support for one comparison with the baseline. The paired t-test sees only the
    seed-to-seed spread, the interval also the test set's sampling error, so a verdict needs both: "better" or
    "worse" when the adjusted p is below alpha and the interval excludes 0, "equivalent" when TOST's adjusted p is
    below alpha and the interval lies inside ±margin, else "not resolved"."""
    low, high = e["diff_low"], e["diff_high"]
    if low is None or high is None:
        return "not resolved"
    if e["p_adjusted"] is not None and e["p_adjusted"] < alpha and (low > 0 or high < 0):
        improved = by_metric(e["metric"]).better(e["diff_vs_baseline"], 0.0)
        return "better" if improved else "worse"
    if e["p_equivalence_adjusted"] is not None and e["p_equivalence_adjusted"] < alpha and -margin < low \
            and high < margin:
        return "equivalent"
    return "not resolved"



def wide_curves(variants: dict[str, dict]) -> dict[str, tuple[list[str], list[list]]]:
    """Tables keyed by file name: (header, rows), one column per variant where the x axis is shared."""
    tables: dict[str, tuple[list[str], list[list]]] = {}
    names = list(variants)
    mean = {name: {key: replicates.mean_curve(histories(v), key) for key in ("train_loss", "val_loss", "val_metric")}
            for name, v in variants.items()}
    for key in ("train_loss", "val_loss", "val_metric"):
        epochs = sorted({p[0] for name in names for p in mean[name][key]})
        rows = [[epoch] + [_at(mean[name][key], epoch) for name in names] for epoch in epochs]
        tables[f"{key}.tsv"] = (["epoch", *names], rows)
    for when, label in (("init", "grad_norm_init.tsv"), ("final", "grad_norm_final.tsv")):
        per_variant = {name: (v["metrics"].get("preact_grad_norm_init" if when == "init" else "preact_grad_norm")
                              or []) for name, v in variants.items()}
        depth = max(len(norms) for norms in per_variant.values())
        tables[label] = (["layer", *names], [[layer + 1] + [per_variant[n][layer] if layer < len(per_variant[n])
                                                            else None for n in names] for layer in range(depth)])
    rates = sorted({p["setting"]["learning_rate"] for v in variants.values() for p in v["metrics"]["points"]
                    if "learning_rate" in p["setting"]})
    if len(rates) >= 2:
        for key in ("val_loss", "train_loss"):
            by_rate = {name: {p["setting"].get("learning_rate"): p.get(key) for p in v["metrics"]["points"]}
                       for name, v in variants.items()}
            tables[f"lr_{key}.tsv"] = (["learning_rate", *names],
                                       [[rate] + [by_rate[n].get(rate) for n in names] for rate in rates])
    tables["final.tsv"] = (["variant", *FINAL_COLUMNS],
                           [[name] + [v["metrics"].get(key) for key in FINAL_COLUMNS] for name, v in variants.items()])
    return tables


def step_curves(variants: dict[str, dict]) -> tuple[list[str], list[list]]:
    """Training and validation loss against optimizer steps (mean over seeds), one row per variant and epoch."""
    rows = []
    for name, variant in variants.items():
        train = replicates.mean_curve(histories(variant), "train_loss")
        for epoch, loss, _ in replicates.mean_curve(histories(variant), "val_loss"):
            rows.append([name, epoch, epoch * variant["metrics"]["steps_per_epoch"], _at(train, epoch), loss])
    return ["variant", "epoch", "step", "train_loss", "val_loss"], rows


def time_curves(variants: dict[str, dict]) -> tuple[list[str], list[list]]:
    """Validation loss against wall-clock seconds (mean over seeds): not byte-stable, so kept apart."""
    rows = []
    for name, variant in variants.items():
        best = variant["metrics"]["best_setting"]
        seconds = [r["epoch_seconds"] for r in variant["timing"]["runs"] if r["setting"] == best]
        curve = replicates.mean_curve(histories(variant), "val_loss")
        for epoch, loss, _ in curve:
            times = [s[epoch] for s in seconds if epoch < len(s)]
            rows.append([name, epoch, round(sum(times) / len(times), 4) if times else None, loss])
    return ["variant", "epoch", "seconds", "val_loss"], rows


def noise_slope(variants: dict[str, dict]) -> float | None:
    """Slope of log(gradient noise variance at initialization) against log(batch size): -1 in theory
    (before the finite-population correction)."""
    batches, variances = [], []
    for variant in variants.values():
        mean = init_noise_ratio(variant)
        if mean is not None:
            batches.append(variant["metrics"]["noise_batch"])
            variances.append(mean ** 2)
    if len(set(batches)) < 2:
        return None
    return statistics.log_slope(batches, variances)


def _at(curve: list[tuple[int, float, float]], epoch: int) -> float | None:
    return next((mean for e, mean, _ in curve if e == epoch), None)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round_sig(a / b) if a is not None and b else None
