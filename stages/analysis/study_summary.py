"""One study's trained variants -> summary.json ({variant: {metric: value}}), findings and wide curves."""
from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from stages.analysis import replicates, selection, statistics
from stages.catalog.tasks import by_metric
from stages.common.numbers import round_sig
from stages.config import ReportConfig

# Columns of the long per-variant tables used for bar and scatter charts.
FINAL_COLUMNS = ("train_metric", "val_metric", "test_metric", "generalization_gap", "weight_sparsity")


def load_variant(folder: Path) -> dict:
    """A trained variant (one condition): its metrics and every run's history."""
    read = lambda name: json.loads((folder / name).read_text())  # noqa: E731
    return {"metrics": read("metrics.json"), "runs": read("history.json")["runs"]}


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
    metrics, runs = variant["metrics"], selection.held_out_runs(variant)
    finals = {run["seed"]: run["final"] for run in runs}
    result = {key: metrics.get(key) for key in (
        "val_metric", "val_metric_std", "test_metric", "test_metric_std", "train_metric", "train_loss",
        "val_loss", "generalization_gap", "epochs_to_target", "reached_target_runs", "diverged_runs",
        "diagnostics_runs", "best_setting", "weight_sparsity", "noise_ratio", "noise_scale", "test_rmse", "metric",
        "n_val", "n_test")}
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
    result = {"born_dead_runs": sum(constant(h[0]) for h in histories),
              "collapsed_runs": sum(constant(h[-1]) for h in histories)}
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


def cure_pairs(cures: dict[str, str], conditions: list[str]) -> list[tuple[str, str]]:
    """(cure, failure) summary keys: a pair written as `variant/condition` as it is, a pair of plain variant names
    once per condition."""
    pairs = []
    for cure, failure in cures.items():
        if "/" in cure or "/" in failure or conditions == [""]:
            pairs.append((cure, failure))
        else:
            pairs += [(f"{cure}/{condition}", f"{failure}/{condition}") for condition in conditions]
    return pairs


def trained_pairs(loaded: dict[str, dict[str, dict]],
                  pairs: dict[str, str]) -> Iterator[tuple[str, str, dict, dict, list[int], str]]:
    """For each pair (`cure_pairs` form) whose two sides were trained: its two keys, each side's cross-fitted runs
    by seed, the seeds both have, and the study's metric; `loaded`: {condition: {variant: trained variant}}."""
    by_key = {f"{name}/{condition}" if condition else name: variant
              for condition, variants in loaded.items() for name, variant in variants.items()}
    for first, second in cure_pairs(pairs, list(loaded)):
        if first in by_key and second in by_key:
            ours, theirs = ({run["seed"]: run for run in selection.held_out_runs(by_key[key])} for key in (first, second))
            yield first, second, ours, theirs, sorted(ours.keys() & theirs.keys()), by_key[first]["metrics"]["metric"]


def _on_test(ours: dict[int, dict], theirs: dict[int, dict], seeds: list[int], metric: str,
             report: ReportConfig) -> dict:
    """The paired comparison of two sides' test metric (ours minus theirs) within the metric's equivalence margin."""
    return statistics.paired([ours[s]["final"]["test_metric"] for s in seeds],
                             [theirs[s]["final"]["test_metric"] for s in seeds], report.equivalence_margin[metric])


def compare_references(loaded: dict[str, dict[str, dict]], references: dict[str, str],
                       report: ReportConfig) -> dict[str, dict]:
    """{"cure vs reference": the cure's test metric minus its healthy reference's, paired by seed, and whether the
    cure reaches it: "reaches" when the interval lies above -margin (not worse by more than the equivalence margin),
    "falls short" when it lies below, else "unclear"}. Exploratory: outside every Holm family."""
    compared = {}
    for cure, reference, ours, theirs, seeds, metric in trained_pairs(loaded, references):
        e = {"cure": cure, "reference": reference, "metric": metric,
             "reference_metric": replicates.mean([theirs[s]["final"]["test_metric"] for s in seeds]),
             **_on_test(ours, theirs, seeds, metric, report)}
        e["reaches"] = reaches(e, report.equivalence_margin[metric])
        compared[f"{cure} vs {reference}"] = e
    return compared


def reaches(e: dict, margin: float) -> str:
    """Whether a cure reaches its healthy reference on the test metric (e: cure minus reference), by the interval."""
    low, high = e["diff_low"], e["diff_high"]
    if low is None or high is None:
        return "unclear"
    worst, best = (low, high) if by_metric(e["metric"]).higher_is_better else (-high, -low)  # as gains
    return "reaches" if worst > -margin else "falls short" if best < -margin else "unclear"


def compare_cures(loaded: dict[str, dict[str, dict]], cures: dict[str, str], report: ReportConfig) -> dict[str, dict]:
    """{"cure vs failure": paired comparison on the test metric (cure minus failure)} for every cure pair whose two
    sides were trained, and {"cure vs failure on <sign>": the same on the failure's own sign} for each sign the
    failure shows (SIGNS); `loaded`: {condition: {variant: trained variant}}."""
    compared = {}
    for cure, failure, ours, theirs, seeds, metric in trained_pairs(loaded, cures):
        compared[f"{cure} vs {failure}"] = {"cure": cure, "failure": failure, "metric": metric,
                                            **_on_test(ours, theirs, seeds, metric, report)}
        for sign, judge in SIGNS.items():
            found = judge(ours, theirs, seeds, report, metric)
            if found is not None:  # overfitting is in the study's metric, and so is its equivalence margin
                compared[f"{cure} vs {failure} on {sign}"] = {
                    "cure": cure, "failure": failure, "compared_on": sign, **found,
                    "metric": metric if sign == "overfitting" else sign}
    return compared


def _on_divergence(cure: dict[int, dict], failure: dict[int, dict], seeds: list[int], report: ReportConfig,
                   metric: str) -> dict | None:
    """Where the failure diverged in every seed: the share of seeds that diverged, exact McNemar test."""
    diverged = lambda run: bool(run["final"].get("diverged"))  # noqa: E731
    if not seeds or not all(diverged(failure[s]) for s in seeds):
        return None
    return statistics.paired_events([diverged(cure[s]) for s in seeds], [diverged(failure[s]) for s in seeds])


def _on_saturation(cure: dict[int, dict], failure: dict[int, dict], seeds: list[int], report: ReportConfig,
                   metric: str) -> dict | None:
    """Where the failure's top hidden layer saturated in every seed: that layer's peak saturated share."""
    peaks = [{s: top[0] for s in seeds if (top := top_saturation(side[s]["history"], report.saturated_fraction))}
             for side in (cure, failure)]
    if not (seeds and peaks[0] and all(peaks[1].get(s, 0) >= report.saturated_fraction for s in seeds)):
        return None
    common = sorted(peaks[0].keys() & peaks[1].keys())
    return statistics.paired([peaks[0][s] for s in common], [peaks[1][s] for s in common],
                             report.equivalence_margin["saturation"])


def _on_overfitting(cure: dict[int, dict], failure: dict[int, dict], seeds: list[int], report: ReportConfig,
                    metric: str) -> dict | None:
    """Where the failure overfits in every seed (train beyond held-out test by more than `report.overfit_gap`): how
    far each side's training metric is beyond its test metric, floored at 0, so that underfitting earns nothing."""
    task = by_metric(metric)

    def overfit(run: dict) -> float | None:
        train, test = run["final"].get("train_metric"), run["final"].get("test_metric")
        return None if train is None or test is None else task.score(train) - task.score(test)

    if not seeds or not all((overfit(failure[s]) or 0) > report.overfit_gap for s in seeds):
        return None
    floored = [[None if (v := overfit(side[s])) is None else max(v, 0.0) for s in seeds] for side in (cure, failure)]
    return statistics.paired(floored[0], floored[1], report.equivalence_margin[metric])


# A failure's own signs, in the order they decide its row of the concept table: a cure is judged on each the failure
# shows (beside the test metric), inside the study's Holm family.
SIGNS = {"divergence": _on_divergence, "saturation": _on_saturation, "overfitting": _on_overfitting}


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



def long_curves(variants: dict[str, dict]) -> dict[str, tuple[list[str], list[list]]]:
    """Tables keyed by file name: (header, rows), one row per variant and x value that the variant has (so a plot
    draws a variant only where it was trained, and `dvc plots diff` shows the variants of both sides)."""
    tables: dict[str, tuple[list[str], list[list]]] = {}
    for key in ("train_loss", "val_loss", "val_metric"):
        tables[f"{key}.tsv"] = (["epoch", "variant", key],
                                [[epoch, name, value] for name, v in variants.items()
                                 for epoch, value, _ in replicates.mean_curve(histories(v), key)])
    for when, label in (("init", "grad_norm_init.tsv"), ("final", "grad_norm_final.tsv")):
        key = "preact_grad_norm_init" if when == "init" else "preact_grad_norm"
        tables[label] = (["layer", "variant", "grad_norm"],
                         [[layer, name, norm] for name, v in variants.items()
                          for layer, norm in enumerate(v["metrics"].get(key) or [], 1) if norm is not None])
    rates = {p["setting"]["learning_rate"] for v in variants.values() for p in v["metrics"]["points"]
             if "learning_rate" in p["setting"]}
    if len(rates) >= 2:
        for key in ("val_loss", "train_loss"):
            tables[f"lr_{key}.tsv"] = (["learning_rate", "variant", key, "diverged_runs"],  # a plot marks those
                                       [[p["setting"]["learning_rate"], name, p.get(key), p["diverged_runs"]]
                                        for name, v in variants.items()
                                        for p in sorted((p for p in v["metrics"]["points"]
                                                         if "learning_rate" in p["setting"]),
                                                        key=lambda p: p["setting"]["learning_rate"])])
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


def time_curves(variants: dict[str, dict], timings: dict[str, dict]) -> tuple[list[str], list[list]]:
    """Validation loss against wall-clock seconds (mean over seeds), from each variant's timing.json: not byte-stable,
    so kept apart."""
    rows = []
    for name, variant in variants.items():
        best = variant["metrics"]["best_setting"]
        seconds = [r["epoch_seconds"] for r in timings[name]["runs"] if r["setting"] == best]
        curve = replicates.mean_curve(histories(variant), "val_loss")
        for epoch, loss, _ in curve:
            times = [s[epoch] for s in seconds if epoch < len(s)]
            rows.append([name, epoch, round(sum(times) / len(times), 4) if times else None, loss])
    return ["variant", "epoch", "seconds", "val_loss"], rows


def noise_slope(variants: dict[str, dict]) -> dict | None:
    """Slope of log(gradient noise variance at initialization) against log(batch size): its mean over seeds with a
    95% t-interval, and the slope the finite-population formula predicts for batches drawn without replacement from
    the N-example probe set, Var ∝ (N - B) / (B (N - 1)): -1 only while B << N."""
    per_seed: dict[int, list[tuple[int, float]]] = {}
    batches = set()
    for variant in variants.values():
        batch = variant["metrics"]["noise_batch"]
        batches.add(batch)
        for run in chosen_runs(variant):
            ratio = run["history"][0].get("noise_ratio")
            if ratio:
                per_seed.setdefault(run["seed"], []).append((batch, ratio ** 2))
    if len(batches) < 2:
        return None
    slopes = [statistics.log_slope(*zip(*points)) for points in per_seed.values() if len({b for b, _ in points}) >= 2]
    population = next(iter(variants.values()))["metrics"].get("noise_population")
    measured = [v["metrics"]["noise_batch"] for v in variants.values()]  # as the slope weighs them
    predicted = (statistics.log_slope(measured, [(population - b) / (b * (population - 1)) for b in measured])
                 if population else None)
    low, high = statistics.t_interval(slopes)
    return {"slope": replicates.mean(slopes), "low": low, "high": high, "seeds": len(slopes),
            "predicted": round_sig(predicted) if predicted is not None else None, "population": population,
            "batches": sorted(batches)}


def _at(curve: list[tuple[int, float, float]], epoch: int) -> float | None:
    return next((mean for e, mean, _ in curve if e == epoch), None)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round_sig(a / b) if a is not None and b else None
