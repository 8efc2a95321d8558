"""A Kaggle stand-in on 127.0.0.1: the official client's download protocol, files in the three datasets' Kaggle
layouts at any size up to the real one, and injectable faults. The tests and the rehearsal serve from it; it never
talks to anything but 127.0.0.1."""
from __future__ import annotations

import base64
import io
import secrets
import json
import threading
import time
import zipfile
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

DOWNLOAD_PATH = "/v1/datasets.DatasetApiService/DownloadDataset"
USERNAME = "fake-user"


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A zip archive holding `files` (name -> bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# Rows of the real Kaggle files: Fashion-MNIST train and test, WDBC, California housing.
FULL_ROWS = {"fashion_mnist": (60_000, 10_000), "breast_cancer": (569,), "california_housing": (20_640,)}


def _csv_lines(header: str, rows: np.ndarray) -> bytes:
    """Whole-number rows as CSV, fast enough for 70,000 x 785 values (a lookup table instead of formatting)."""
    text = [str(i) for i in range(int(rows.max(initial=0)) + 1)]
    lines = [header, *(",".join(map(text.__getitem__, row)) for row in rows.tolist())]
    return ("\n".join(lines) + "\n").encode()


OWN_SHARE = 0.42  # the least share of an image's own class shape: about one image in seven leans to its look-alike


def fashion_csvs(rows: int = 100, test_rows: int | None = None, seed: int = 0) -> dict[str, bytes]:
    """Fashion-MNIST files in Kaggle's schema (label,pixel1..pixel784, 0-255, mostly zero background): each class
    is a blurred shape of its own, blended with its look-alike class's shape (as a shirt resembles a T-shirt), drawn
    at a random brightness with noise. Some images lean to the look-alike, so no model is perfect: like the real
    data, a linear model lands well below 100%."""
    rng = np.random.default_rng(seed)
    shapes = np.kron(rng.random((10, 7, 7)) < 0.45, np.ones((4, 4))).reshape(10, 784)
    header = "label," + ",".join(f"pixel{i}" for i in range(1, 785))

    def table(n: int) -> bytes:
        labels = np.arange(n) % 10
        own = rng.uniform(OWN_SHARE, 1.0, size=(n, 1))  # below 0.5 the image looks more like its look-alike
        blend = own * shapes[labels] + (1 - own) * shapes[labels ^ 1]  # look-alikes: classes 0-1, 2-3, ...
        brightness = rng.uniform(90, 255, size=(n, 1))
        pixels = blend * (brightness + rng.normal(0, 45, size=(n, 784)))
        return _csv_lines(header, np.column_stack([labels, np.clip(np.rint(pixels), 0, 255)]).astype(np.int64))

    return {"fashion-mnist_train.csv": table(rows),
            "fashion-mnist_test.csv": table(rows // 3 if test_rows is None else test_rows)}


def wdbc_csv(rows: int = 40, seed: int = 0) -> dict[str, bytes]:
    """Breast-cancer file in Kaggle's schema, trailing comma on every line included; each feature near the real
    data's mean and spread, malignant rows shifted up."""
    from stages.catalog.datasets import _kaggle_wdbc_name
    from sklearn.datasets import load_breast_cancer

    real = load_breast_cancer()
    names = [_kaggle_wdbc_name(n) for n in real.feature_names]
    mean, spread = real.data.mean(axis=0), real.data.std(axis=0)
    rng = np.random.default_rng(seed)
    lines = ['"id","diagnosis",' + ",".join(f'"{n}"' for n in names) + ","]
    for i in range(rows):
        diagnosis = "M" if i % 3 == 0 else "B"
        values = np.abs(mean + spread * rng.normal(0.8 if diagnosis == "M" else -0.4, 0.7, size=30))
        lines.append(f"{842300 + i},{diagnosis}," + ",".join(f"{v:.5g}" for v in values) + ",")
    return {"data.csv": ("\n".join(lines) + "\n").encode()}


def housing_csv(rows: int = 50, seed: int = 0) -> dict[str, bytes]:
    """California-housing file: blanks in total_bedrooms, categorical ocean_proximity, values in the real
    ranges (house values capped at 500,001 as in the census file)."""
    rng = np.random.default_rng(seed)
    lines = ["longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,households,"
             "median_income,median_house_value,ocean_proximity"]
    places = ["NEAR BAY", "<1H OCEAN", "INLAND", "NEAR OCEAN"]
    for i in range(rows):
        bedrooms = "" if i % 100 == 7 else f"{rng.integers(100, 900)}.0"  # ~1% blank, as in the real file
        income = rng.uniform(0.5, 15)
        value = min(500_001.0, income * 40_000 * rng.uniform(0.7, 1.3))
        lines.append(f"{-122 + rng.normal():.2f},{37 + rng.normal():.2f},{rng.integers(1, 52)}.0,"
                     f"{rng.integers(500, 5000)}.0,{bedrooms},{rng.integers(300, 3000)}.0,"
                     f"{rng.integers(100, 1000)}.0,{income:.4f},{value:.1f},{places[i % 4]}")
    return {"housing.csv": ("\n".join(lines) + "\n").encode()}


def dataset_files(name: str, scale: float = 1.0, seed: int = 0) -> dict[str, bytes]:
    """The Kaggle files of dataset `name` at `scale` of the real row counts (at least 100 rows each)."""
    rows = [max(100, round(n * scale)) for n in FULL_ROWS[name]]
    makers = {"fashion_mnist": lambda: fashion_csvs(rows[0], rows[1], seed),
              "breast_cancer": lambda: wdbc_csv(rows[0], seed), "california_housing": lambda: housing_csv(rows[0], seed)}
    return makers[name]()


def archives(scale: float = 1.0, seed: int = 0) -> dict[str, bytes]:
    """Zip archives of every dataset at `scale`, keyed by Kaggle handle, ready for FakeKaggle.archives."""
    from stages.catalog.datasets import DATASETS

    return {DATASETS.get(name).kaggle_handle: zip_bytes(dataset_files(name, scale, seed)) for name in FULL_ROWS}


def offline_guard() -> dict[str, str]:
    """Environment variables that send any request not meant for 127.0.0.1 to a dead local proxy."""
    guard = {name: "http://127.0.0.1:1" for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}
    return {**guard, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


def client_env(server: FakeKaggle, home: Path) -> dict[str, str]:
    """Environment variables that point the official client at `server`, with its credentials only and a config
    folder under `home`, behind the offline guard."""
    from stages.ingest.kaggle_client import ENDPOINT_ENV

    return {**offline_guard(), "HOME": str(home), "KAGGLE_CONFIG_DIR": str(home / ".kaggle"),
            "KAGGLE_USERNAME": USERNAME, "KAGGLE_KEY": server.key, ENDPOINT_ENV: server.url}


# A reply the server gives instead of the archive: (status, JSON message) or a callable fault.
Fault = tuple[int, str] | Callable[[BaseHTTPRequestHandler], None]


class FakeKaggle:
    """Serves `archives` ('owner/slug' -> zip bytes); `faults['owner/slug']` replies are used first."""

    def __init__(self) -> None:
        self.key = f"canary-{secrets.token_hex(12)}"  # made at run time, so no file of the repo holds it
        self.archives: dict[str, bytes] = {}
        self.faults: dict[str, list[Fault]] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request received
        self.auth_headers: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeKaggle:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                fake.requests.append(("POST", self.path))
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.auth_headers.append(self.headers.get("Authorization", ""))
                if self.path != DOWNLOAD_PATH:
                    return self.reply_json(404, f"no route {self.path}")
                if not self.authorized():
                    return self.reply_json(401, "Unauthenticated")
                request = json.loads(body or b"{}")
                handle = f"{request.get('ownerSlug')}/{request.get('datasetSlug')}"
                pending = fake.faults.get(handle)
                if pending:
                    fault = pending.pop(0)
                    return fault(self) if callable(fault) else self.reply_json(*fault)
                if handle not in fake.archives:
                    return self.reply_json(404, f"Dataset {handle} not found")
                self.send_response(302)
                self.send_header("Location", f"{fake.url}/files/{request['datasetSlug']}.zip?h={handle}")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path))
                handle = self.path.split("?h=", 1)[-1]
                data = fake.archives.get(handle)
                if data is None:
                    return self.reply_json(404, "gone")
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def authorized(self) -> bool:
                expected = base64.b64encode(f"{USERNAME}:{fake.key}".encode()).decode()
                return self.headers.get("Authorization", "") == f"Basic {expected}"

            def reply_json(self, status: int, message: str) -> None:
                payload = json.dumps({"code": status, "message": message}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


def stall(seconds: float) -> Fault:
    """A fault that accepts the request and says nothing for `seconds`."""

    def reply(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)

    return reply
