"""Small 2-D datasets made by seed with scikit-learn's generators: linearly separable, XOR, two moons."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from stages.common import atomic
from stages.common.errors import DataError
from stages.common.registry import Registry
from stages.config import FoundationsConfig


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
        from stages.reference.perceptron import novikoff_bound

        if not novikoff_bound(x, 2 * y - 1)["separable"]:
            raise DataError(f"{path}: the 'separable' set is not linearly separable; lower its spread")


def synthesize(spec: FoundationsConfig, out: Path) -> dict:
    """Generate, check and write every synthetic set; return what meta.json records."""
    meta = {"samples": spec.samples, "seed": spec.data_seed, "sets": {}}
    with atomic.staged_dir(out) as staging:
        for name in GENERATORS.names:
            noise = spec.moons_noise if name == "moons" else spec.spread
            x, y = GENERATORS.get(name)(spec.samples, spec.data_seed, noise)
            x_test, y_test = GENERATORS.get(name)(spec.samples, spec.data_seed + 1, noise)  # fresh draw
            check(name, x, y, str(out / f"{name}.npz"))
            check(name, x_test, y_test, str(out / f"{name}.npz"), training=False)
            np.savez(staging / f"{name}.npz", x=x.astype(np.float64), y=y.astype(np.int64),
                     x_test=x_test.astype(np.float64), y_test=y_test.astype(np.int64))
            meta["sets"][name] = {"rows": len(y), "class_1_share": float(np.mean(y)), "noise": noise}
        atomic.write_json(staging / "meta.json", meta)
    return meta
