"""What hidden layers learn: linear probes on frozen activations, 2-D projections, and calibration."""
from __future__ import annotations

import numpy as np

from stages.reference import backprop


def hidden_activations(weights: list[np.ndarray], x: np.ndarray, activation: str,
                       slope: float = 0.01) -> list[np.ndarray]:
    """Each hidden layer's activations, (rows, units), for Keras-ordered weights [k0, b0, k1, b1, ...]."""
    layers = list(zip(weights[0::2], weights[1::2]))
    _, cache = backprop.forward(layers, x.astype(np.float64), activation, slope)
    return [h for h, _ in cache[1:]]  # the input to layer i + 1 is layer i's output


def probe_accuracy(train: np.ndarray, train_y: np.ndarray, val: np.ndarray, val_y: np.ndarray) -> float:
    """Validation accuracy of a logistic regression fitted on the training activations."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    probe.fit(train, train_y)
    return float(probe.score(val, val_y))


def project_2d(features: np.ndarray) -> np.ndarray:
    """The first two principal components. (rows, units) -> (rows, 2)."""
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=0).fit_transform(features)


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int) -> dict:
    """Confidence against accuracy in equal-width confidence bins, and the expected calibration error
    ECE = sum over bins of (share of examples) * |accuracy - mean confidence|."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        inside = index == b
        if inside.any():
            acc, conf = float(correct[inside].mean()), float(confidence[inside].mean())
            ece += inside.mean() * abs(acc - conf)
            table.append({"bin": b, "lower": float(edges[b]), "upper": float(edges[b + 1]), "count": int(inside.sum()),
                          "confidence": conf, "accuracy": acc})
    return {"ece": float(ece), "bins": table, "accuracy": float(correct.mean()),
            "mean_confidence": float(confidence.mean())}
