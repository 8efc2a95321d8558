"""The processed folder, data/processed/<dataset>/: raw CSVs read, checked, split and encoded."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from stages.catalog.datasets import DatasetSpec
from stages.common import atomic
from stages.common.errors import DataError
from stages.config import DataConfig
from stages.ingest import tabular
from stages.ingest.raw import SOURCE_FILE


def preprocess(spec: DatasetSpec, data: DataConfig, raw: Path, out: Path) -> dict:
    """Read, check, split and encode one dataset; write arrays and meta.json into `out` atomically."""
    source_file = raw / SOURCE_FILE
    if not source_file.is_file():
        raise DataError(f"{source_file}: missing; run `dvc repro download@{spec.name}` first")
    source = json.loads(source_file.read_text())
    schema = spec.schema(source["source"])
    train = tabular.read_table(raw / schema.train_file, schema, spec.task)
    test = tabular.read_table(raw / schema.test_file, schema, spec.task) if schema.test_file else None
    if test is not None and list(test.columns) != list(train.columns):
        raise DataError(f"{raw / schema.test_file}: columns differ from {schema.train_file}")
    frames = tabular.split_frames(train, test, spec, schema.target, data.val_fraction,
                                   data.test_fraction, data.split_seed)
    splits, meta = tabular.fit_transform(frames, spec, schema)
    meta.update(dataset=spec.name, task=spec.task, source=source["source"], origin=source["origin"],
                split_seed=data.split_seed, test_from_file=schema.test_file is not None)
    with atomic.staged_dir(out) as staging:
        for name, split in splits.items():
            np.savez(staging / f"{name}.npz", x=split.x, y=split.y)
        atomic.write_json(staging / "meta.json", meta)
    return meta
