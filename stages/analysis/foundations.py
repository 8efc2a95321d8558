"""The opening study's small models, summarized over seeds: perceptron, one sigmoid neuron, a one-hidden-layer MLP."""
from __future__ import annotations

import numpy as np

from stages.analysis import replicates, statistics, study_summary
from stages.common.numbers import round_sig
from stages.config import FoundationsConfig, ReportConfig
from stages.reference import gd_fit, perceptron

MODELS = ("perceptron", "neuron", "mlp")


def linear_models(spec: FoundationsConfig, sets: dict, seeds: list[int]) -> tuple[dict, dict]:
    """Perceptron, one sigmoid neuron and a one-hidden-layer MLP on every set, for every seed."""
    summary: dict = {model: {} for model in MODELS}
    fitted: dict = {}
    for name, data in sets.items():
        signs = 2 * data["y"] - 1
        runs = [perceptron.train(data["x"], signs, spec.perceptron_epochs, seed) for seed in seeds]
        bound = perceptron.novikoff_bound(data["x"], signs)
        summary["perceptron"][name] = {
            "runs": len(runs), "converged_runs": sum(r.converged for r in runs), "cycled_runs": sum(r.cycled for r in runs),
            "updates_mean": replicates.mean([r.updates for r in runs]), "updates_max": max(r.updates for r in runs),
            "epochs_max": max(r.epochs for r in runs), "linearly_separable": bound["separable"],
            "bound": round_sig(bound["bound"]), "radius": round_sig(bound["radius"]), "margin": round_sig(bound["margin"]),
            "test_accuracy": replicates.mean([float(np.mean(perceptron.predict(r.weights, data["x_test"])
                                                  == 2 * data["y_test"] - 1)) for r in runs])}
        fitted[("perceptron", name)] = runs[0]
        for model, widths, activation, rate in (
                ("neuron", [2, 1], "sigmoid", spec.neuron_learning_rate),
                ("mlp", [2, spec.mlp_hidden, 1], spec.mlp_activation, spec.mlp_learning_rate)):
            fits = [gd_fit.fit(gd_fit.init_layers(widths, seed), data["x"], data["y"], activation=activation,
                                learning_rate=rate, epochs=spec.gd_epochs, snapshot_at=tuple(spec.boundary_epochs))
                    for seed in seeds]
            summary[model][name] = {
                "test_accuracy": replicates.mean([gd_fit.accuracy(f.layers, data["x_test"], data["y_test"], activation)
                                        for f in fits]),
                "train_accuracy": replicates.mean([gd_fit.accuracy(f.layers, data["x"], data["y"], activation) for f in fits]),
                "final_loss": replicates.mean([f.losses[-1] for f in fits])}
            fitted[(model, name)] = (fits[0], activation)
    return summary, fitted



def probe_gain(probe: dict, report: ReportConfig) -> dict:
    """Did training make the last hidden layer more linearly separable than the raw input? The per-seed probe
    accuracies against the input's, with the interval, test and verdict the report states (one test: Holm's
    correction leaves its p as it is)."""
    last = max(key for key in probe if key.startswith("hidden_"))
    seeds = probe[last]["final_per_seed"]
    result = {"layer": last, **statistics.paired(seeds, [probe["input"]] * len(seeds), probe["n_val"],
                                                 report.equivalence_margin["accuracy"])}
    result.update(p_adjusted=result["p_vs_baseline"], p_equivalence_adjusted=result["p_equivalence"],
                  metric="accuracy")
    result["verdict"] = study_summary.verdict(result, report.significance, report.equivalence_margin["accuracy"])
    return result
