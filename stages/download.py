"""Stage `download@<dataset>`: write data/raw/<dataset>/ from Kaggle or the offline stand-in, whole or not at all."""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from stages import atomic, config, kaggle_source
from stages.datasets import DATASETS, DatasetSpec
from stages.errors import DataError, stage_entry
from stages.features import check_header

SOURCE_FILE = "SOURCE.json"


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def provenance(spec: DatasetSpec, source: str, folder: Path) -> dict:
    """What SOURCE.json records: where the files came from and their checksums (never credentials)."""
    schema = spec.schema(source)
    return {
        "dataset": spec.name,
        "source": source,
        "kaggle_handle": spec.kaggle_handle,
        "origin": spec.offline_origin if source == "offline" else f"kaggle:{spec.kaggle_handle}",
        "files": {name: {"bytes": (folder / name).stat().st_size, "sha256": sha256(folder / name)}
                  for name in schema.files},
    }


def download(spec: DatasetSpec, data: config.DataConfig, out: Path) -> dict:
    """Fill `out` with the dataset's files and SOURCE.json; the old `out` survives any failure."""
    schema = spec.schema(data.source)
    with atomic.staged_dir(out) as staging:
        if data.source == "offline":
            spec.build_offline(staging)
        else:
            inbox = staging / ".download"
            archive = kaggle_source.fetch(spec.kaggle_handle, inbox, retries=data.download_retries,
                                          backoff_s=data.download_backoff_s,
                                          timeout_s=data.download_timeout_s)
            kaggle_source.extract(archive, staging, schema.files, int(data.max_download_mb * 2**20))
            kaggle_source.discard(inbox)
        missing = [name for name in schema.files if not (staging / name).is_file()]
        if missing:
            raise DataError(f"{out}: {data.source} source did not provide {', '.join(missing)}")
        for name in schema.files:  # a wrong file must not replace a good one
            check_header(staging / name, schema)
        record = provenance(spec, data.source, staging)
        atomic.write_json(staging / SOURCE_FILE, record)
    return record


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
