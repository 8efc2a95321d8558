"""A processed dataset in memory, as training reads it: the config's budget and share of the training split, its
label noise, and the validation rows its per-epoch curve is measured on."""
from __future__ import annotations

import json
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stages.catalog.datasets import DATASETS
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
    curve_rows: np.ndarray | None = None  # validation rows of the per-epoch curve (None: all of them)


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


def read_split(path: Path, dataset: str, labels_only: bool = False) -> tuple[np.ndarray | None, np.ndarray]:
    """One split's features and labels (or its labels alone); a missing, truncated or foreign file is a one-line
    DataError."""
    try:
        with np.load(path) as split:
            return None if labels_only else split["x"], split["y"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        reason = "missing" if not path.exists() else f"not a readable split ({type(error).__name__}: {error})"
        raise DataError(f"{path}: {reason}; rebuild it with `dvc repro -f preprocess@{dataset}`") from None


def budget_rows(labels: np.ndarray, budget: int, seed: int, stratify: bool) -> np.ndarray:
    """Sorted indices of a fixed subset of `budget` rows, the same on every machine (NumPy's PCG64 from `seed`):
    for classification each class keeps its share of the rows (largest remainders get the rows left over)."""
    rng = np.random.default_rng(seed)
    if not stratify:
        return np.sort(rng.permutation(len(labels))[:budget])
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * budget / len(labels)
    take = np.floor(quota).astype(int)
    take[np.argsort(take - quota, kind="stable")[:budget - take.sum()]] += 1
    return np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, take)]))


def mapped_array(path: Path, member: str) -> np.ndarray:
    """One array of an uncompressed .npz (as np.savez writes), memory-mapped: indexing it reads only those rows."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(f"{member}.npy")
    with open(path, "rb") as file:
        file.seek(info.header_offset + 26)  # the local file header's name and extra-field lengths
        name_length, extra_length = struct.unpack("<HH", file.read(4))
        file.seek(info.header_offset + 30 + name_length + extra_length)
        version = np.lib.format.read_magic(file)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(file)
        offset = file.tell()
    return np.memmap(path, dtype=dtype, mode="r", shape=shape, offset=offset, order="F" if fortran else "C")


def _budget_of(folder: Path, cfg: TrainConfig, labels: np.ndarray, budget: int) -> np.ndarray:
    """The fixed rows of a split that a budget keeps, drawn with the dataset's split seed."""
    seed = json.loads((folder / "meta.json").read_text())["split_seed"]
    return budget_rows(labels, budget, seed, TASKS.get(DATASETS.get(cfg.dataset).task).classes)


def read_budget(folder: Path, cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """The training split within the config's budget (`train_rows`), reading from disk only the rows it keeps."""
    path = folder / "train.npz"
    if cfg.train_rows is None:
        return read_split(path, cfg.dataset)
    _, y = read_split(path, cfg.dataset, labels_only=True)
    if cfg.train_rows >= len(y):  # a budget larger than the data uses all of it
        return read_split(path, cfg.dataset)
    keep = _budget_of(folder, cfg, y, cfg.train_rows)
    try:
        return np.asarray(mapped_array(path, "x")[keep]), y[keep]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, struct.error) as error:
        raise DataError(f"{path}: not a readable split ({type(error).__name__}: {error}); rebuild it with "
                        f"`dvc repro -f preprocess@{cfg.dataset}`") from None


def load_arrays(folder: Path | str, cfg: TrainConfig) -> Arrays:
    """Read data/processed/<dataset>/ and keep the config's budget and share of the training split."""
    folder = Path(folder)
    x, y = {}, {}
    x["train"], y["train"] = read_budget(folder, cfg)
    for name in ("val", "test"):
        x[name], y[name] = read_split(folder / f"{name}.npz", cfg.dataset)
    # Stratified by the dataset's own classes, before any binary reading of them: the same rows for every task
    curve_rows = None if cfg.val_rows is None or cfg.val_rows >= len(y["val"]) else \
        _budget_of(folder, cfg, y["val"], cfg.val_rows)
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
    return Arrays(task, n_classes, x, y, x["train"].std(axis=0) == 0, curve_rows)
