"""Stage `download@<dataset>`: write data/raw/<dataset>/ from Kaggle or the offline stand-in, whole or not at all."""
from __future__ import annotations

import argparse
from pathlib import Path

from stages import config
from stages.catalog.datasets import DATASETS
from stages.common.errors import stage_entry
from stages.ingest.raw import download


@stage_entry
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog="Reads params.yaml (data.*). "
                                     "Writes OUT/<the dataset's CSV files> and OUT/SOURCE.json.")
    parser.add_argument("dataset", choices=DATASETS.names)
    parser.add_argument("--out", type=Path, required=True, help="folder to (re)write, e.g. data/raw/<dataset>")
    args = parser.parse_args(argv)
    params = config.load()
    record = download(DATASETS.get(args.dataset), params.data, args.out)
    size = sum(f["bytes"] for f in record["files"].values())
    print(f"download {args.dataset}: {record['origin']} -> {args.out} "
          f"({len(record['files'])} files, {size / 2**20:.1f} MB)")


if __name__ == "__main__":
    main()
