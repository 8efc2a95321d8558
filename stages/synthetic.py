"""Small 2-D datasets made by seed with scikit-learn's generators: linearly separable, XOR, two moons."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from stages.errors import DataError
from stages.registry import Registry


def separable(samples: int, seed: int, spread: float) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs a straight line splits, off the origin so the bias has to be learned too."""
    from sklearn.datasets import make_blobs

    return make_blobs(samples, centers=[(0.0, 1.0), (1.5, 1.5)], cluster_std=spread, random_state=seed)


def xor(samples: int, seed: int, spread: float) -> tuple[np.ndarray, np.ndarray]:
    """Four blobs at (±1, ±1); the class is whether the two signs differ: no line separates it."""
    from sklearn.datasets import make_blobs

    corners = [(-1, -1), (1, 1), (-1, 1), (1, -1)]
    x, corner = make_blobs(samples, centers=corners, cluster_std=spread, random_state=seed)
    return x, (corner >= 2).astype(int)


def moons(samples: int, seed: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles."""
    from sklearn.datasets import make_moons

    return make_moons(samples, noise=noise, random_state=seed)


GENERATORS: Registry[Callable[[int, int, float], tuple[np.ndarray, np.ndarray]]] = Registry(
    "synthetic dataset", {"separable": separable, "xor": xor, "moons": moons})


def check(name: str, x: np.ndarray, y: np.ndarray, path: str, training: bool = True) -> None:
    """What every synthetic set must satisfy; the separable one's training draw must really be separable."""
    if x.ndim != 2 or x.shape[1] != 2 or len(x) != len(y):
        raise DataError(f"{path}: expected (n, 2) features and n labels, got {x.shape} and {y.shape}")
    if not np.isfinite(x).all():
        raise DataError(f"{path}: features hold NaN or infinite values")
    if set(np.unique(y)) != {0, 1}:
        raise DataError(f"{path}: labels must be 0 and 1, got {sorted(set(np.unique(y)))}")
    if name == "separable" and training:
        from stages.perceptron import novikoff_bound

        if not novikoff_bound(x, 2 * y - 1)["separable"]:
            raise DataError(f"{path}: the 'separable' set is not linearly separable; lower its spread")
