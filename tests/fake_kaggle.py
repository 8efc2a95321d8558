"""A fake Kaggle API on 127.0.0.1 speaking the protocol the official client uses, with injectable faults."""
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


def fashion_csvs(rows: int = 100, seed: int = 0) -> dict[str, bytes]:
    """Tiny Fashion-MNIST files in Kaggle's schema: label,pixel1..pixel784 (0-255)."""
    rng = np.random.default_rng(seed)
    header = "label," + ",".join(f"pixel{i}" for i in range(1, 785))

    def table(n: int) -> bytes:
        labels = np.arange(n) % 10
        pixels = rng.integers(0, 256, size=(n, 784)) // (labels[:, None] + 1)  # class-dependent
        lines = [header] + [f"{y}," + ",".join(map(str, p)) for y, p in zip(labels, pixels)]
        return ("\n".join(lines) + "\n").encode()

    return {"fashion-mnist_train.csv": table(rows), "fashion-mnist_test.csv": table(rows // 3)}


def wdbc_csv(rows: int = 40, seed: int = 0) -> dict[str, bytes]:
    """Tiny breast-cancer file in Kaggle's schema, trailing comma on every line included."""
    from stages.catalog.datasets import _kaggle_wdbc_name
    from sklearn.datasets import load_breast_cancer

    names = [_kaggle_wdbc_name(n) for n in load_breast_cancer().feature_names]
    rng = np.random.default_rng(seed)
    lines = ['"id","diagnosis",' + ",".join(f'"{n}"' for n in names) + ","]
    for i in range(rows):
        diagnosis = "M" if i % 3 == 0 else "B"
        values = rng.normal(10 + (diagnosis == "M"), 1, size=30)
        lines.append(f"{842300 + i},{diagnosis}," + ",".join(f"{v:.4f}" for v in values) + ",")
    return {"data.csv": ("\n".join(lines) + "\n").encode()}


def housing_csv(rows: int = 50, seed: int = 0) -> dict[str, bytes]:
    """Tiny California-housing file: NaNs in total_bedrooms, categorical ocean_proximity."""
    rng = np.random.default_rng(seed)
    lines = ["longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,households,"
             "median_income,median_house_value,ocean_proximity"]
    places = ["NEAR BAY", "<1H OCEAN", "INLAND", "NEAR OCEAN"]
    for i in range(rows):
        bedrooms = "" if i % 7 == 0 else f"{rng.integers(100, 900)}.0"
        income = rng.uniform(1, 10)
        lines.append(f"{-122 + rng.normal():.2f},{37 + rng.normal():.2f},{rng.integers(1, 52)}.0,"
                     f"{rng.integers(500, 5000)}.0,{bedrooms},{rng.integers(300, 3000)}.0,"
                     f"{rng.integers(100, 1000)}.0,{income:.4f},{income * 40000:.1f},{places[i % 4]}")
    return {"housing.csv": ("\n".join(lines) + "\n").encode()}


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
