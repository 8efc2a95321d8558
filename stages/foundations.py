"""Stage `foundations`: perceptron, single neuron and MLP on 2-D sets; probes of a 10-class net's hidden layers."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from stages import aggregate, atomic, config, figures, neurons, numpy_mlp, perceptron, representations
from stages.errors import stage_entry
from stages.statistics import round_sig
from stages.synthetic import GENERATORS

MODELS = ("perceptron", "neuron", "mlp")


def load_sets(folder: Path) -> dict[str, dict[str, np.ndarray]]:
    """{name: {x, y, x_test, y_test}} for every synthetic set."""
    return {name: dict(np.load(folder / f"{name}.npz")) for name in GENERATORS.names}


def linear_models(spec: config.FoundationsConfig, sets: dict, seeds: list[int]) -> tuple[dict, dict]:
    """Perceptron, one sigmoid neuron and a one-hidden-layer MLP on every set, for every seed."""
    summary: dict = {model: {} for model in MODELS}
    fitted: dict = {}
    for name, data in sets.items():
        signs = 2 * data["y"] - 1
        runs = [perceptron.train(data["x"], signs, spec.perceptron_epochs, seed) for seed in seeds]
        bound = perceptron.novikoff_bound(data["x"], signs)
        summary["perceptron"][name] = {
            "runs": len(runs), "converged_runs": sum(r.converged for r in runs), "cycled_runs": sum(r.cycled for r in runs),
            "updates_mean": _mean([r.updates for r in runs]), "updates_max": max(r.updates for r in runs),
            "epochs_max": max(r.epochs for r in runs), "linearly_separable": bound["separable"],
            "bound": round_sig(bound["bound"]), "radius": round_sig(bound["radius"]), "margin": round_sig(bound["margin"]),
            "test_accuracy": _mean([float(np.mean(perceptron.predict(r.weights, data["x_test"])
                                                  == 2 * data["y_test"] - 1)) for r in runs])}
        fitted[("perceptron", name)] = runs[0]
        for model, widths, activation, rate in (
                ("neuron", [2, 1], "sigmoid", spec.neuron_learning_rate),
                ("mlp", [2, spec.mlp_hidden, 1], spec.mlp_activation, spec.mlp_learning_rate)):
            fits = [neurons.fit(neurons.init_layers(widths, seed), data["x"], data["y"], activation=activation,
                                learning_rate=rate, epochs=spec.gd_epochs, snapshot_at=tuple(spec.boundary_epochs))
                    for seed in seeds]
            summary[model][name] = {
                "test_accuracy": _mean([neurons.accuracy(f.layers, data["x_test"], data["y_test"], activation)
                                        for f in fits]),
                "train_accuracy": _mean([neurons.accuracy(f.layers, data["x"], data["y"], activation) for f in fits]),
                "final_loss": _mean([f.losses[-1] for f in fits])}
            fitted[(model, name)] = (fits[0], activation)
    return summary, fitted


def probes(spec: config.FoundationsConfig, cfg: config.TrainConfig, data: Path) -> tuple[dict, dict, list]:
    """Train the 10-class net per seed; probe every hidden layer at the probe epochs; calibrate the end."""
    from stages import engine

    arrays = engine.load_arrays(data, cfg)
    trainer = engine.Engine(cfg, arrays)
    epochs = sorted(set(spec.probe_epochs))
    raw = representations.probe_accuracy(arrays.x["train"], arrays.y["train"], arrays.x["val"], arrays.y["val"])
    accuracy: dict[int, list[list[float]]] = {epoch: [] for epoch in epochs}  # epoch -> per seed, per layer
    calibration, projections = [], []
    for seed in cfg.seeds:
        trainer.reset({}, seed)
        snapshots = {0: [w.numpy() for w in trainer.model.weights]}

        def keep(epoch: int) -> None:
            if epoch in accuracy:
                snapshots[epoch] = [w.numpy() for w in trainer.model.weights]

        trainer.run({}, seed, on_epoch=keep)
        for epoch in epochs:
            if epoch not in snapshots:  # the run diverged before this epoch
                continue
            train = representations.hidden_activations(snapshots[epoch], arrays.x["train"], cfg.activation,
                                                       cfg.negative_slope)
            val = representations.hidden_activations(snapshots[epoch], arrays.x["val"], cfg.activation,
                                                     cfg.negative_slope)
            accuracy[epoch].append([representations.probe_accuracy(t, arrays.y["train"], v, arrays.y["val"])
                                    for t, v in zip(train, val)])
            if seed == cfg.seeds[0] and epoch in (epochs[0], epochs[len(epochs) // 2], epochs[-1]):
                projections.append((f"epoch {epoch}", representations.project_2d(val[-1]), arrays.y["val"]))
        weights = snapshots[max(snapshots)]
        logits, _ = numpy_mlp.forward(list(zip(weights[0::2], weights[1::2])), arrays.x["test"].astype(np.float64),
                                      cfg.activation, cfg.negative_slope)
        calibration.append(representations.reliability(numpy_mlp.softmax(logits), arrays.y["test"],
                                                       spec.calibration_bins))
    layers = len(cfg.hidden)
    per_layer = {f"hidden_{i + 1}": {f"epoch_{e}": _mean([seed[i] for seed in accuracy[e]]) for e in epochs}
                 for i in range(layers)}
    for i, name in enumerate(per_layer):
        per_layer[name]["init"] = per_layer[name][f"epoch_{epochs[0]}"]
        per_layer[name]["final"] = per_layer[name][f"epoch_{epochs[-1]}"]
        per_layer[name]["final_std"] = aggregate.mean_std([seed[i] for seed in accuracy[epochs[-1]]])[1]
    summary = {"probe": {"input": round_sig(raw), **per_layer},
               "calibration": {key: _mean([c[key] for c in calibration])
                               for key in ("ece", "accuracy", "mean_confidence")}}
    summary["calibration"]["ece_std"] = aggregate.mean_std([c["ece"] for c in calibration])[1]
    table = [[e, raw] + [per_layer[f"hidden_{i + 1}"][f"epoch_{e}"] for i in range(layers)] for e in epochs]
    return summary, {"table": table, "layers": layers, "bins": calibration[0]["bins"]}, projections


def draw(spec: config.FoundationsConfig, sets: dict, fitted: dict, curves: dict, projections: list,
         folder: Path) -> None:
    """Decision boundaries, the MLP's boundary forming, probe accuracy, projections, reliability."""
    panels = []
    for name in ("xor", "moons"):
        data = sets[name]
        run = fitted[("perceptron", name)]
        panels.append((f"perceptron, {name}", lambda g, w=run.weights: (perceptron.augment(g) @ w > 0) * 1.0,
                       (data["x"], data["y"])))
        for model in ("neuron", "mlp"):
            fit, activation = fitted[(model, name)]
            panels.append((f"{model}, {name}", lambda g, f=fit, a=activation: neurons.probability(f.layers, g, a),
                           (data["x"], data["y"])))
    figures.boundaries(panels, folder / "boundaries.png")
    fit, activation = fitted[("mlp", "moons")]
    forming = [(f"MLP after {epoch} steps", lambda g, s=fit.snapshots[epoch]: neurons.probability(s, g, activation),
                (sets["moons"]["x"], sets["moons"]["y"])) for epoch in spec.boundary_epochs]
    figures.boundaries(forming, folder / "boundary_forming.png", columns=len(forming))
    table = curves["table"]
    series = {"raw input": [(row[0], row[1]) for row in table]}
    series.update({f"hidden {i + 1}": [(row[0], row[2 + i]) for row in table] for i in range(curves["layers"])})
    figures.xy_lines(series, folder / "probe_accuracy.png", "epoch", "linear-probe validation accuracy")
    figures.projections(projections, folder / "projections.png")
    figures.reliability_diagram(curves["bins"], folder / "reliability.png")


def foundations(params: config.Params, synthetic: Path, data: Path, out: Path) -> dict:
    """Run everything and write OUT/summary.json, OUT/curves/*.tsv and OUT/figures/*.png."""
    from stages.evaluate import write_tsv

    spec, cfg = params.foundations, config.representation_config(params)
    sets = load_sets(synthetic)
    summary, fitted = linear_models(spec, sets, cfg.seeds)
    probe_summary, curves, projections = probes(spec, cfg, data)
    summary.update(probe_summary)
    with atomic.staged_dir(out / "curves") as curve_dir, atomic.staged_dir(out / "figures") as figure_dir:
        write_tsv(curve_dir / "probe_accuracy.tsv",
                  ["epoch", "input"] + [f"hidden_{i + 1}" for i in range(curves["layers"])], curves["table"])
        write_tsv(curve_dir / "reliability.tsv", ["confidence", "accuracy", "count"],
                  [[b["confidence"], b["accuracy"], b["count"]] for b in curves["bins"]])
        draw(spec, sets, fitted, curves, projections, figure_dir)
        atomic.write_json(out / "summary.json", summary)
    return summary


def _mean(values: list) -> float | None:
    return aggregate.mean_std(values)[0]


@stage_entry
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=(
        "Reads params.yaml (foundations, defaults), SYNTHETIC/*.npz and DATA/{train,val,test}.npz. Writes "
        "OUT/summary.json, OUT/curves/{probe_accuracy,reliability}.tsv and OUT/figures/*.png."))
    parser.add_argument("--synthetic", type=Path, required=True, help="folder written by synthesize")
    parser.add_argument("--data", type=Path, required=True, help="the probed dataset's data/processed folder")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    summary = foundations(config.load(), args.synthetic, args.data, args.out)
    last = max(key for key in summary["probe"] if key.startswith("hidden_"))
    print(f"foundations: perceptron converged on the separable set in "
          f"{summary['perceptron']['separable']['converged_runs']} runs; probe accuracy {last} "
          f"{summary['probe'][last]['final']} vs raw input {summary['probe']['input']} -> {args.out}")


if __name__ == "__main__":
    main()
