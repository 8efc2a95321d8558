"""Fetch a dataset with the official `kaggle` client and unpack it safely; errors become one actionable line."""
from __future__ import annotations

import os
import shutil
import stat
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from stages.common.errors import DownloadError

# A test or mirror setting: base URL of a Kaggle-compatible API (the tests point it at 127.0.0.1).
ENDPOINT_ENV = "NNF_KAGGLE_ENDPOINT"
RETRIED_STATUSES = {429, 500, 502, 503, 504}
CREDENTIALS_HELP = (
    "set KAGGLE_USERNAME and KAGGLE_KEY (or KAGGLE_API_TOKEN), or save kaggle.json in ~/.kaggle/ "
    "(Kaggle > Settings > API > Create New Token); or use the offline data: "
    "dvc exp run -S data.source=offline"
)


def has_credentials() -> bool:
    """True when any credential source the kaggle client reads is present (checked without network)."""
    if os.environ.get("KAGGLE_API_TOKEN"):
        return True
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    home = Path.home()
    folders = [Path(os.environ["KAGGLE_CONFIG_DIR"])] if os.environ.get("KAGGLE_CONFIG_DIR") else []
    folders += [home / ".kaggle", home / ".config" / "kaggle"]
    names = ("kaggle.json", "access_token", "credentials.json")
    return any((folder / name).is_file() for folder in folders for name in names)


def fetch(handle: str, dest: Path, *, retries: int, backoff_s: float, timeout_s: float) -> Path:
    """Download dataset `handle` as a zip into `dest` and return the archive's path."""
    if not has_credentials():
        raise DownloadError(f"no Kaggle credentials found: {CREDENTIALS_HELP}")
    _apply_endpoint_override()
    api = _authenticated_api()
    import requests

    for attempt in range(retries + 1):
        shutil.rmtree(dest, ignore_errors=True)  # no partial archive from an earlier try
        try:
            with _default_timeout(timeout_s):
                api.dataset_download_files(handle, path=str(dest), unzip=False, quiet=True, force=True)
            break
        except requests.exceptions.HTTPError as error:
            status = error.response.status_code if error.response is not None else None
            if status not in RETRIED_STATUSES or attempt == retries:
                raise DownloadError(_http_message(handle, status, attempt)) from None
        except requests.exceptions.Timeout:
            if attempt == retries:
                raise DownloadError(
                    f"Kaggle did not answer within {timeout_s:g} s ({attempt + 1} tries) for {handle}; "
                    "try again later or raise data.download_timeout_s") from None
        except requests.exceptions.ConnectionError:
            if attempt == retries:
                raise DownloadError(
                    f"cannot connect to Kaggle for {handle} ({attempt + 1} tries): check the network, "
                    "or use the offline data: dvc exp run -S data.source=offline") from None
        time.sleep(backoff_s * 2**attempt)
    archives = sorted(dest.glob("*.zip"))
    if len(archives) != 1:
        raise DownloadError(f"Kaggle sent no archive for {handle}")
    return archives[0]


def _apply_endpoint_override() -> None:
    url = os.environ.get(ENDPOINT_ENV)
    if not url:
        return
    if not url.startswith(("http://", "https://")):
        raise DownloadError(f"{ENDPOINT_ENV}: {url!r} is not an http(s) URL")
    from kagglesdk import kaggle_env

    kaggle_env._env_to_endpoint[kaggle_env.KaggleEnv.PROD] = url.rstrip("/")


def _authenticated_api():
    # Imported here, after the endpoint is set: `import kaggle` authenticates at import time.
    from kaggle.api.kaggle_api_extended import KaggleApi

    api = KaggleApi()
    try:
        api.authenticate()
    except SystemExit:
        raise DownloadError(f"Kaggle credentials could not be read: {CREDENTIALS_HELP}") from None
    return api


@contextmanager
def _default_timeout(seconds: float) -> Iterator[None]:
    """Give every request the client sends a timeout; it sets none, so a stalled server would hang it."""
    import requests

    original = requests.Session.send

    def send(session, request, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = seconds
        return original(session, request, **kwargs)

    requests.Session.send = send
    try:
        yield
    finally:
        requests.Session.send = original


def _http_message(handle: str, status: int | None, attempt: int) -> str:
    page = f"https://www.kaggle.com/datasets/{handle}"
    hints = {
        401: f"Kaggle rejected the credentials (401) for {handle}: check KAGGLE_USERNAME and "
             f"KAGGLE_KEY or ~/.kaggle/kaggle.json",
        403: f"Kaggle refused access to {handle} (403): sign in and accept the dataset's rules at "
             f"{page}, then run again",
        404: f"dataset {handle} was not found on Kaggle (404): check the handle in stages/datasets.py "
             f"and that it is public at {page}",
        429: f"Kaggle is rate-limiting downloads (429) of {handle} after {attempt + 1} tries: "
             f"wait a few minutes and run again",
    }
    if status in hints:
        return hints[status]
    return f"Kaggle answered HTTP {status} for {handle} after {attempt + 1} tries: try again later"


def extract(archive: Path, dest: Path, expected: tuple[str, ...], max_bytes: int) -> None:
    """Unpack `archive` into `dest`, refusing unsafe members and archives larger than `max_bytes`."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [m for m in zipped.infolist() if not m.is_dir()]
            for member in members:
                _check_member(archive, member)
            declared = sum(m.file_size for m in members)
            if declared > max_bytes:
                raise DownloadError(f"{archive.name}: unpacks to {declared / 2**20:.0f} MB, over the "
                                    f"data.max_download_mb cap of {max_bytes / 2**20:.0f} MB")
            budget = max_bytes
            for member in members:
                budget = _copy_member(zipped, member, dest, budget, archive, max_bytes)
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as error:
        raise DownloadError(f"{archive.name}: the downloaded archive is corrupt or not a zip ({error}); "
                            "run again to re-download") from None
    missing = [name for name in expected if not (dest / name).is_file()]
    if missing:
        found = sorted(m.filename for m in members)
        raise DownloadError(f"{archive.name}: lacks {', '.join(missing)}; it holds: "
                            f"{', '.join(found) or 'nothing'}")


def _check_member(archive: Path, member: zipfile.ZipInfo) -> None:
    path = PurePosixPath(member.filename.replace("\\", "/"))
    mode = member.external_attr >> 16
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise DownloadError(f"{archive.name}: refusing member {member.filename!r}: path leaves the folder")
    if stat.S_ISLNK(mode):
        raise DownloadError(f"{archive.name}: refusing member {member.filename!r}: links are not allowed")


def _copy_member(zipped: zipfile.ZipFile, member: zipfile.ZipInfo, dest: Path, budget: int,
                 archive: Path, max_bytes: int) -> int:
    """Stream one member out, counting real bytes: a header may understate the size."""
    target = dest / member.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipped.open(member) as source, open(target, "wb") as sink:
        while chunk := source.read(1 << 20):
            budget -= len(chunk)
            if budget < 0:
                raise DownloadError(f"{archive.name}: unpacks to more than the data.max_download_mb cap "
                                    f"of {max_bytes / 2**20:.0f} MB")
            sink.write(chunk)
    return budget


def discard(path: Path) -> None:
    """Remove a downloaded archive once it is unpacked."""
    if path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
