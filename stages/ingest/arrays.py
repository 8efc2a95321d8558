"""A processed dataset in memory, as training reads it: the config's share of the training split, its label noise."""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stages.catalog.tasks import TASKS
from stages.common.errors import DataError
from stages.config import TrainConfig, task_of


@dataclass(frozen=True)
class Arrays:
    """A processed dataset in memory: features (rows, features) float32; labels or targets (rows,)."""

    task: str
    n_classes: int
    x: dict[str, np.ndarray]  # split -> features
    y: dict[str, np.ndarray]  # split -> class index (int) or standardized target (float)
    constant_inputs: np.ndarray  # (features,) bool: no variation in the training split


def noisy_labels(labels: np.ndarray, share: float, n_classes: int) -> np.ndarray:
    """Labels with round(share * rows) of them, one fixed set for every seed, moved to a random other class."""
    rng = np.random.default_rng(2)
    hit = rng.permutation(len(labels))[:round(share * len(labels))]
    noisy = labels.copy()
    noisy[hit] = (labels[hit] + rng.integers(1, n_classes, size=len(hit))) % n_classes  # never the true class
    return noisy


def binary_labels(labels: dict[str, np.ndarray], positive: list[int], folder: Path) -> dict[str, np.ndarray]:
    """Class indices read as a binary task: 1 for the `positive` classes, 0 for the others, in every split."""
    present = np.unique(np.concatenate(list(labels.values())))
    if not set(positive) < set(present.tolist()):
        raise DataError(f"{folder}: positive_classes {positive} must be some, not all, of its classes "
                        f"{present.tolist()}")
    return {split: np.isin(y, positive).astype(y.dtype) for split, y in labels.items()}


def read_split(path: Path, dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """One split's features and labels; a missing, truncated or foreign file is a one-line DataError."""
    try:
        with np.load(path) as split:
            return split["x"], split["y"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        reason = "missing" if not path.exists() else f"not a readable split ({type(error).__name__}: {error})"
        raise DataError(f"{path}: {reason}; rebuild it with `dvc repro -f preprocess@{dataset}`") from None


def load_arrays(folder: Path | str, cfg: TrainConfig) -> Arrays:
    """Read data/processed/<dataset>/ and keep the config's share of the training split."""
    folder = Path(folder)
    x, y = {}, {}
    for name in ("train", "val", "test"):
        x[name], y[name] = read_split(folder / f"{name}.npz", cfg.dataset)
    if cfg.positive_classes:
        y = binary_labels(y, cfg.positive_classes, folder)
    if cfg.train_fraction < 1:
        # One fixed subset for every seed: replicates differ in initialization and order, not data.
        rows = max(2, round(cfg.train_fraction * len(y["train"])))
        keep = np.sort(np.random.default_rng(0).permutation(len(y["train"]))[:rows])
        x["train"], y["train"] = x["train"][keep], y["train"][keep]
    if cfg.outlier_share > 0:  # one-sided gross errors in the training targets only; val/test stay clean
        hit = np.random.default_rng(1).permutation(len(y["train"]))[:round(cfg.outlier_share * len(y["train"]))]
        y["train"] = y["train"].copy()
        y["train"][hit] += np.float32(cfg.outlier_scale)
    task = task_of(cfg)
    n_classes = int(max(y[s].max() for s in y)) + 1 if TASKS.get(task).classes else 1
    if cfg.label_noise > 0:
        y["train"] = noisy_labels(y["train"], cfg.label_noise, n_classes)
    return Arrays(task, n_classes, x, y, x["train"].std(axis=0) == 0)
