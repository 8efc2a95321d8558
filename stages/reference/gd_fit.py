"""A single sigmoid neuron and a one-hidden-layer MLP, trained by full-batch gradient descent on the NumPy reference."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stages.reference import backprop


@dataclass
class Fitted:
    """Final layers, per-epoch loss, and snapshots of the layers at chosen epochs."""

    layers: list
    losses: list[float]
    snapshots: dict[int, list]


def init_layers(widths: list[int], seed: int) -> list:
    """Glorot-uniform weights and zero biases for consecutive widths, e.g. [2, 16, 1]."""
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(widths, widths[1:]):
        limit = np.sqrt(6 / (fan_in + fan_out))
        layers.append((rng.uniform(-limit, limit, (fan_in, fan_out)), np.zeros(fan_out)))
    return layers


def fit(layers: list, x: np.ndarray, y: np.ndarray, *, activation: str, learning_rate: float, epochs: int,
        snapshot_at: tuple[int, ...] = ()) -> Fitted:
    """Binary cross-entropy on a sigmoid output; every step uses the whole set. y: (n,) of 0/1."""
    target = y.astype(float)[:, None]
    layers = [(w.copy(), b.copy()) for w, b in layers]
    losses, snapshots = [], {}
    for epoch in range(epochs + 1):
        if epoch in snapshot_at:
            snapshots[epoch] = [(w.copy(), b.copy()) for w, b in layers]
        loss, grads = backprop.loss_and_gradients(layers, x, target, activation=activation,
                                                   loss="binary_crossentropy", head="sigmoid")
        losses.append(loss)
        if epoch == epochs:
            break
        layers = [(w - learning_rate * dw, b - learning_rate * db) for (w, b), (dw, db) in zip(layers, grads)]
    return Fitted(layers, losses, snapshots)


def probability(layers: list, x: np.ndarray, activation: str) -> np.ndarray:
    """P(class 1) per example. (n, 2) -> (n,)."""
    logits, _ = backprop.forward(layers, x, activation)
    return backprop.sigmoid(logits[:, 0])


def accuracy(layers: list, x: np.ndarray, y: np.ndarray, activation: str) -> float:
    return float(np.mean((probability(layers, x, activation) > 0.5) == y))
