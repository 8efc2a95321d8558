"""Stage `preprocess@<dataset>`: raw CSVs -> data/processed/<dataset>/{train,val,test}.npz + meta.json."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from stages import atomic, config, features
from stages.datasets import DATASETS, DatasetSpec
from stages.download import SOURCE_FILE
from stages.errors import DataError, stage_entry


def preprocess(spec: DatasetSpec, data: config.DataConfig, raw: Path, out: Path) -> dict:
    """Read, check, split and encode one dataset; write arrays and meta.json into `out` atomically."""
    source_file = raw / SOURCE_FILE
    if not source_file.is_file():
        raise DataError(f"{source_file}: missing; run `dvc repro download@{spec.name}` first")
    source = json.loads(source_file.read_text())
    schema = spec.schema(source["source"])
    train = features.read_table(raw / schema.train_file, schema, spec.task)
    test = features.read_table(raw / schema.test_file, schema, spec.task) if schema.test_file else None
    if test is not None and list(test.columns) != list(train.columns):
        raise DataError(f"{raw / schema.test_file}: columns differ from {schema.train_file}")
    frames = features.split_frames(train, test, spec, schema.target, data.val_fraction,
                                   data.test_fraction, data.split_seed)
    splits, meta = features.fit_transform(frames, spec, schema)
    meta.update(dataset=spec.name, task=spec.task, source=source["source"], origin=source["origin"],
                split_seed=data.split_seed, test_from_file=schema.test_file is not None)
    with atomic.staged_dir(out) as staging:
        for name, split in splits.items():
            np.savez(staging / f"{name}.npz", x=split.x, y=split.y)
        atomic.write_json(staging / "meta.json", meta)
    return meta


@stage_entry
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog="Reads params.yaml (data.*) and RAW/. "
                                     "Writes OUT/{train,val,test}.npz (x float32, y) and OUT/meta.json.")
    parser.add_argument("dataset", choices=DATASETS.names)
    parser.add_argument("--raw", type=Path, required=True, help="folder written by download")
    parser.add_argument("--out", type=Path, required=True, help="folder to (re)write")
    args = parser.parse_args(argv)
    params = config.load()
    meta = preprocess(DATASETS.get(args.dataset), params.data, args.raw, args.out)
    counts = meta["counts"]
    print(f"preprocess {args.dataset}: {len(meta['features'])} features, train/val/test = "
          f"{counts['train']}/{counts['val']}/{counts['test']} -> {args.out}")


if __name__ == "__main__":
    main()
