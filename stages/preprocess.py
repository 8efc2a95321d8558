"""Stage `preprocess@<dataset>`: raw CSVs -> data/processed/<dataset>/{train,val,test}.npz + meta.json."""
from __future__ import annotations

import argparse
from pathlib import Path

from stages import config
from stages.catalog.datasets import DATASETS
from stages.common.errors import stage_entry
from stages.ingest.processed import preprocess


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
