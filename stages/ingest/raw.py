"""The raw folder, data/raw/<dataset>/: a dataset's files from Kaggle or its offline stand-in, with provenance."""
from __future__ import annotations

import hashlib
from pathlib import Path

from stages.catalog.datasets import DatasetSpec
from stages.common import atomic
from stages.common.errors import DataError
from stages.config import DataConfig
from stages.ingest import kaggle_client
from stages.ingest.header import check_header

SOURCE_FILE = "SOURCE.json"


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


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


def download(spec: DatasetSpec, data: DataConfig, out: Path) -> dict:
    """Fill `out` with the dataset's files and SOURCE.json; the old `out` survives any failure."""
    schema = spec.schema(data.source)
    with atomic.staged_dir(out) as staging:
        if data.source == "offline":
            spec.build_offline(staging)
        else:
            inbox = staging / ".download"
            archive = kaggle_client.fetch(spec.kaggle_handle, inbox, retries=data.download_retries,
                                          backoff_s=data.download_backoff_s,
                                          timeout_s=data.download_timeout_s)
            kaggle_client.extract(archive, staging, schema.files, int(data.max_download_mb * 2**20))
            kaggle_client.discard(inbox)
        missing = [name for name in schema.files if not (staging / name).is_file()]
        if missing:
            raise DataError(f"{out}: {data.source} source did not provide {', '.join(missing)}")
        for name in schema.files:  # a wrong file must not replace a good one
            check_header(staging / name, schema)
        record = provenance(spec, data.source, staging)
        atomic.write_json(staging / SOURCE_FILE, record)
    return record
