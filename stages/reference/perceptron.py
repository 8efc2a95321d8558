"""Rosenblatt's perceptron: the mistake-driven learning rule, and the Novikoff bound it converges within."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def augment(x: np.ndarray) -> np.ndarray:
    """Append a constant 1 to every example, so the bias is one more weight. (n, d) -> (n, d + 1)."""
    return np.hstack([x, np.ones((len(x), 1))])


@dataclass(frozen=True)
class PerceptronRun:
    """The outcome of training: weights, updates made, whether an epoch passed without a mistake."""

    weights: np.ndarray  # (d + 1,), bias last
    updates: int
    epochs: int
    converged: bool
    cycled: bool  # the weights came back to an earlier end-of-epoch state: it can never converge
    mistakes: list[int]  # per epoch


def train(x: np.ndarray, y: np.ndarray, max_epochs: int, seed: int) -> PerceptronRun:
    """Labels y in {-1, +1}. For each example in a seeded order: if y w.x <= 0, then w += y x."""
    data = augment(x)
    order = np.random.default_rng(seed).permutation(len(data))
    w = np.zeros(data.shape[1])
    seen, mistakes, updates = set(), [], 0
    for epoch in range(1, max_epochs + 1):
        wrong = 0
        for i in order:
            if y[i] * (w @ data[i]) <= 0:
                w = w + y[i] * data[i]
                wrong += 1
        updates += wrong
        mistakes.append(wrong)
        if wrong == 0:
            return PerceptronRun(w, updates, epoch, True, False, mistakes)
        state = w.tobytes()
        if state in seen:
            return PerceptronRun(w, updates, epoch, False, True, mistakes)
        seen.add(state)
    return PerceptronRun(w, updates, max_epochs, False, False, mistakes)


def predict(weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    """+1 or -1 per example."""
    return np.where(augment(x) @ weights > 0, 1, -1)


def novikoff_bound(x: np.ndarray, y: np.ndarray) -> dict:
    """(R / gamma)^2: R the largest example norm, gamma the margin of a (near) maximum-margin separator
    through the origin of the augmented space. Any separator's margin is at most the best one, so the
    bound computed from it is still a valid upper bound on the perceptron's updates."""
    import warnings

    from sklearn.svm import LinearSVC

    data = augment(x)
    with warnings.catch_warnings():  # on data no line separates the solver cannot converge: expected
        warnings.simplefilter("ignore")
        svm = LinearSVC(fit_intercept=False, C=1e4, loss="hinge", max_iter=200000, tol=1e-8,
                        random_state=0).fit(data, y)  # its coordinate descent shuffles: fix the order
    w = svm.coef_.ravel()
    margin = float(np.min(y * (data @ w)) / np.linalg.norm(w))
    radius = float(np.max(np.linalg.norm(data, axis=1)))
    return {"radius": radius, "margin": margin, "separable": margin > 0,
            "bound": (radius / margin) ** 2 if margin > 0 else None}
