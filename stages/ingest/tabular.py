"""From raw CSV tables to model-ready arrays: schema checks, a seeded split, encoders fitted on train only."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from stages.catalog.datasets import DatasetSpec, TableSchema
from stages.catalog.tasks import TASKS
from stages.common.errors import DataError
from stages.ingest.header import check_header

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Split:
    """One split as arrays: features (rows, features) float32 and targets (rows,)."""

    x: np.ndarray
    y: np.ndarray


def read_table(path: Path, schema: TableSchema, task: str) -> pd.DataFrame:
    """Read one CSV and check it against the schema; any problem names the file and column."""
    check_header(path, schema)
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a readable CSV ({' '.join(str(error).split())})") from None
    if frame.empty:
        raise DataError(f"{path}: has a header but no rows")
    frame = frame.drop(columns=[c for c in schema.drop if c in frame.columns])
    if frame[schema.target].isna().any():
        raise DataError(f"{path}: target column {schema.target!r} has {frame[schema.target].isna().sum()} "
                        "empty values")
    if TASKS.get(task).classes and frame[schema.target].nunique() < 2:
        raise DataError(f"{path}: target column {schema.target!r} has a single class "
                        f"({frame[schema.target].iloc[0]!r}); a classifier needs two or more")
    if not TASKS.get(task).classes and not pd.api.types.is_numeric_dtype(frame[schema.target]):
        raise DataError(f"{path}: target column {schema.target!r} must be numeric for regression")
    _check_features(frame, schema, path)
    return frame


def _check_features(frame: pd.DataFrame, schema: TableSchema, path: Path) -> None:
    for column in frame.columns:
        if column == schema.target or column in schema.categorical:
            continue
        values = frame[column]
        if values.isna().all():
            raise DataError(f"{path}: column {column!r} is empty in every row")
        if not pd.api.types.is_numeric_dtype(values):
            numeric = pd.to_numeric(values, errors="coerce")
            bad = values[numeric.isna() & values.notna()].iloc[0]
            raise DataError(f"{path}: column {column!r} must be numeric; found {bad!r}")
        if np.isinf(values.to_numpy(dtype=float)).any():
            raise DataError(f"{path}: column {column!r} holds infinite values")
        if column not in schema.impute and values.isna().any():
            raise DataError(f"{path}: column {column!r} has {values.isna().sum()} empty values; only "
                            f"{', '.join(schema.impute) or 'no column'} may have gaps")


def split_frames(train: pd.DataFrame, test: pd.DataFrame | None, spec: DatasetSpec, target: str,
                 val_fraction: float, test_fraction: float, seed: int) -> dict[str, pd.DataFrame]:
    """Split into train/val/test (stratified for classification); a shipped test file is kept as is."""
    stratify = TASKS.get(spec.task).classes

    def cut(frame: pd.DataFrame, fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
        labels = frame[target] if stratify else None
        try:
            return train_test_split(frame, test_size=fraction, random_state=seed, stratify=labels)
        except ValueError as error:
            raise DataError(f"cannot split {spec.name} ({len(frame)} rows): {error}") from None

    if test is None:
        train, test = cut(train, test_fraction)
        val_fraction = val_fraction / (1 - test_fraction)  # of what is left, to keep it a share of all
    train, val = cut(train, val_fraction)
    return {"train": train, "val": val, "test": test}


def fit_transform(frames: dict[str, pd.DataFrame], spec: DatasetSpec, schema: TableSchema,
                  ) -> tuple[dict[str, Split], dict]:
    """Fit imputer, scaler and encoders on the training split only; return arrays and their metadata."""
    target = schema.target
    train = frames["train"]
    numeric = [c for c in train.columns if c != target and c not in schema.categorical]
    categorical = [c for c in schema.categorical if c in train.columns]
    columns = ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
    ], verbose_feature_names_out=False)
    columns.fit(train[numeric + categorical])
    imputer, scaler = columns.named_transformers_["numeric"]
    meta: dict = {
        "features": [str(f) for f in columns.get_feature_names_out()],
        "scaler": {"columns": numeric, "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()},
        "imputed_median": {c: float(imputer.statistics_[numeric.index(c)]) for c in schema.impute
                           if c in numeric},
    }
    encode_target, meta_target = _target_encoder(train[target], spec, schema)
    meta.update(meta_target)
    splits = {}
    for name, frame in frames.items():
        x = columns.transform(frame[numeric + categorical]).astype(np.float32)
        splits[name] = Split(x=x, y=encode_target(frame[target], name))
    meta["counts"] = {name: int(len(s.y)) for name, s in splits.items()}
    return splits, meta


def _target_encoder(train_target: pd.Series, spec: DatasetSpec, schema: TableSchema):
    """Labels -> 0..K-1 by the training split's classes; regression targets standardized on train."""
    if not TASKS.get(spec.task).classes:
        mean, std = float(train_target.mean()), float(train_target.std(ddof=0))

        def encode(values: pd.Series, split: str) -> np.ndarray:
            return ((values.to_numpy(dtype=np.float64) - mean) / std).astype(np.float32)

        return encode, {"target": {"name": schema.target, "mean": mean, "std": std}}
    classes = sorted(train_target.unique(), key=str)
    if len(classes) < 2:
        raise DataError(f"target {schema.target!r} has a single class ({classes[0]!r}) in the training split")
    index = {value: i for i, value in enumerate(classes)}

    def encode(values: pd.Series, split: str) -> np.ndarray:
        unknown = sorted(set(values) - set(index), key=str)
        if unknown:
            raise DataError(f"{split} split has label(s) {unknown[:5]} unseen in training")
        return values.map(index).to_numpy(dtype=np.int64)

    names = [schema.class_names.get(str(c), str(c)) for c in classes]
    counts = train_target.value_counts()
    return encode, {"target": {"name": schema.target, "labels": [str(c) for c in classes],
                               "class_names": names,
                               "train_class_counts": [int(counts[c]) for c in classes]}}
