"""What the plots read from a study's variants: wide and long curve tables, and the gradient-noise slope across
batch sizes."""
from __future__ import annotations

from stages.analysis import replicates, statistics
from stages.analysis.trained import chosen_runs, histories
from stages.common.numbers import round_sig


# Columns of the long per-variant tables used for bar and scatter charts.
FINAL_COLUMNS = ("train_metric", "val_metric", "test_metric", "generalization_gap", "weight_sparsity")


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
