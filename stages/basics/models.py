"""The opening study's small models, summarized over seeds: perceptron, one sigmoid neuron, a one-hidden-layer MLP."""
from __future__ import annotations

import numpy as np

from stages.analysis import replicates, statistics, study_summary
from stages.common.numbers import round_sig
from stages.config import FoundationsConfig, ReportConfig
from stages.reference import gd_fit, linear_probes, perceptron

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
            if model == "mlp":
                summary[model][name]["probe"] = hidden_probe(fits, data, activation)
            fitted[(model, name)] = (fits[0], activation)
    return summary, fitted



def hidden_probe(fits: list[gd_fit.Fitted], data: dict[str, np.ndarray], activation: str) -> dict:
    """Linear probes on a 2-D set, fitted on its training points and scored on its test points: the raw input, and
    each seed's trained hidden layer (the layout `probe_gain` reads)."""
    raw = linear_probes.probe_accuracy(data["x"], data["y"], data["x_test"], data["y_test"])
    per_seed = []
    for fitted in fits:
        weights = [array for layer in fitted.layers for array in layer]
        (train,), (test,) = (linear_probes.hidden_activations(weights, data[x], activation) for x in ("x", "x_test"))
        per_seed.append(round_sig(linear_probes.probe_accuracy(train, data["y"], test, data["y_test"])))
    return {"input": round_sig(raw), "n_eval": len(data["y_test"]),
            "hidden_1": {"final": replicates.mean(per_seed), "final_per_seed": per_seed}}


def probe_gain(probe: dict, report: ReportConfig) -> dict:
    """Did training make the last hidden layer more linearly separable than the raw input? The per-seed probe
    accuracies against the input's, with the interval and test; `probe_gains` adds the adjusted p and verdict."""
    last = max(key for key in probe if key.startswith("hidden_"))
    seeds = probe[last]["final_per_seed"]
    return {"layer": last, "metric": "accuracy", **statistics.paired(seeds, [probe["input"]] * len(seeds),
                                                                     report.equivalence_margin["accuracy"])}


def probe_gains(summary: dict, report: ReportConfig) -> dict:
    """The probe gains the report states, with Holm's correction over their tests: the 10-class net's last hidden
    layer, and the two-moons MLP's hidden layer, where the raw input is not linearly separable."""
    gains = {"probe_gain": probe_gain(summary["probe"], report),
             "probe_gain_moons": probe_gain(summary["mlp"]["moons"]["probe"], report)}
    study_summary.adjust(gains, report)
    return gains
