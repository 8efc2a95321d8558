"""What hidden layers learn: linear probes of a trained net's layers per epoch, and the calibration of its softmax."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from stages.analysis import replicates
from stages.common.numbers import round_sig
from stages.config import FoundationsConfig, TrainConfig
from stages.ingest.arrays import load_arrays
from stages.nn.engine import new_engine
from stages.reference import backprop, linear_probes


def backprop_check(trainer, cfg: TrainConfig) -> float:
    """Largest gap between TensorFlow's gradients of the validation loss and the NumPy chain-rule reference's, over
    every parameter, relative to that parameter's largest reference gradient (float64 reference, float32 engine)."""
    import tensorflow as tf

    x, target, _ = trainer.step.data["val"]
    with tf.GradientTape() as tape:
        logits, _, _ = trainer.step.forward(x)
        loss = trainer.step.data_loss(target, logits)
    engine_grads = [g.numpy() for g in tape.gradient(loss, trainer.step.variables)]
    layers = [(w.numpy().astype(np.float64), b.numpy().astype(np.float64))
              for w, b in zip(trainer.step.variables[0::2], trainer.step.variables[1::2])]
    _, reference = backprop.loss_and_gradients(layers, x.numpy().astype(np.float64), target.numpy().astype(np.float64),
                                               activation=cfg.activation, slope=cfg.negative_slope,
                                               loss=cfg.loss, head=trainer.step.head.activation,
                                               delta=cfg.huber_delta)
    gaps = [np.abs(got - want).max() / np.abs(want).max()
            for got, want in zip(engine_grads, [g for pair in reference for g in pair]) if np.abs(want).max() > 0]
    return round_sig(float(max(gaps)))


def probe_layers(spec: FoundationsConfig, cfg: TrainConfig, data: Path) -> tuple[dict, dict, list]:
    """Train the 10-class net per seed; probe every hidden layer at the probe epochs; calibrate the end."""
    arrays = load_arrays(data, cfg)
    trainer = new_engine(cfg, arrays)
    epochs = sorted(set(spec.probe_epochs))
    raw = linear_probes.probe_accuracy(arrays.x["train"], arrays.y["train"], arrays.x["val"], arrays.y["val"])
    accuracy: dict[int, list[list[float]]] = {epoch: [] for epoch in epochs}  # epoch -> per seed, per layer
    calibration, projections = [], []
    checks = []
    for seed in cfg.seeds:
        trainer.reset({}, seed)
        if seed == cfg.seeds[0]:
            checks.append(backprop_check(trainer, cfg))
        snapshots = {0: [w.numpy() for w in trainer.model.weights]}

        def keep(epoch: int) -> None:
            if epoch in accuracy:
                snapshots[epoch] = [w.numpy() for w in trainer.model.weights]

        trainer.run({}, seed, on_epoch=keep)
        if seed == cfg.seeds[0]:
            checks.append(backprop_check(trainer, cfg))
        for epoch in epochs:
            if epoch not in snapshots:  # the run diverged before this epoch
                continue
            train = linear_probes.hidden_activations(snapshots[epoch], arrays.x["train"], cfg.activation,
                                                       cfg.negative_slope)
            val = linear_probes.hidden_activations(snapshots[epoch], arrays.x["val"], cfg.activation,
                                                     cfg.negative_slope)
            accuracy[epoch].append([linear_probes.probe_accuracy(t, arrays.y["train"], v, arrays.y["val"])
                                    for t, v in zip(train, val)])
            if seed == cfg.seeds[0] and epoch in (epochs[0], epochs[len(epochs) // 2], epochs[-1]):
                projections.append((f"epoch {epoch}", linear_probes.project_2d(val[-1]), arrays.y["val"]))
        weights = snapshots[max(snapshots)]
        logits, _ = backprop.forward(list(zip(weights[0::2], weights[1::2])), arrays.x["test"].astype(np.float64),
                                      cfg.activation, cfg.negative_slope)
        calibration.append(linear_probes.reliability(backprop.softmax(logits), arrays.y["test"],
                                                       spec.calibration_bins))
    layers = len(cfg.hidden)
    per_layer = {f"hidden_{i + 1}": {f"epoch_{e}": replicates.mean([seed[i] for seed in accuracy[e]]) for e in epochs}
                 for i in range(layers)}
    for i, name in enumerate(per_layer):
        per_layer[name]["init"] = per_layer[name][f"epoch_{epochs[0]}"]
        per_layer[name]["final"] = per_layer[name][f"epoch_{epochs[-1]}"]
        per_layer[name]["final_std"] = replicates.mean_std([seed[i] for seed in accuracy[epochs[-1]]])[1]
        per_layer[name]["final_per_seed"] = [round_sig(seed[i]) for seed in accuracy[epochs[-1]]]
    summary = {"probe": {"input": round_sig(raw), "n_eval": len(arrays.y["val"]), **per_layer},
               "calibration": {key: replicates.mean([c[key] for c in calibration])
                               for key in ("ece", "accuracy", "mean_confidence")}}
    summary["backprop_check"] = {"max_relative_gap": max(checks), "parameters": len(trainer.step.variables),
                                 "examples": len(arrays.y["val"]), "loss": cfg.loss, "activation": cfg.activation}
    summary["calibration"]["ece_std"] = replicates.mean_std([c["ece"] for c in calibration])[1]
    table = [[e, raw] + [per_layer[f"hidden_{i + 1}"][f"epoch_{e}"] for i in range(layers)] for e in epochs]
    return summary, {"table": table, "layers": layers, "bins": calibration[0]["bins"]}, projections
