"""Shared fixtures: a fake Kaggle on 127.0.0.1, a network safety net, the two tiers, and the one reproduced repo
that every end-to-end test reads or clones."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from stages.tools import kaggle_mirror as fake_kaggle
from stages.tools.workspace import REPO

KAGGLE_HANDLES = {
    "zalando-research/fashionmnist": fake_kaggle.fashion_csvs,
    "uciml/breast-cancer-wisconsin-data": fake_kaggle.wdbc_csv,
    "camnugent/california-housing-prices": fake_kaggle.housing_csv,
}


@pytest.fixture(autouse=True)
def no_stray_traffic(monkeypatch):
    """Any request not meant for 127.0.0.1 goes to a dead local proxy instead of the internet."""
    for name, value in fake_kaggle.offline_guard().items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def kaggle_home(tmp_path, monkeypatch):
    """A home folder with no Kaggle credentials anywhere."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(home / ".kaggle"))
    for name in ("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def fake_kaggle_server(kaggle_home, monkeypatch):
    """A running fake Kaggle serving tiny archives of the three datasets, with credentials set."""
    from kagglesdk import kaggle_env

    with fake_kaggle.FakeKaggle() as server:
        for handle, make in KAGGLE_HANDLES.items():
            server.archives[handle] = fake_kaggle.zip_bytes(make())
        for name, value in fake_kaggle.client_env(server, kaggle_home).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setitem(kaggle_env._env_to_endpoint, kaggle_env.KaggleEnv.PROD, server.url)
        yield server


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a child process: this interpreter's bin first on PATH, this checkout on PYTHONPATH (a
    stage started in a folder of test params imports this code; in a repo copy its own folder still comes first),
    quiet TensorFlow."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(extra)
    return env


_TIER = {"e2e": False}  # whether the running test is marked e2e


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Let `run` know whether this test may spawn processes (only the e2e tier does), before any of its fixtures,
    whatever their scope, is set up."""
    _TIER["e2e"] = item.get_closest_marker("e2e") is not None


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    _TIER["e2e"] = False  # after the fixtures' teardown


def train_command(study: str, variant: str, data: Path, out: Path) -> list[str]:
    """The train stage's command line for one variant (data: a data/processed folder), writing out/models, out/runs
    and out/timing."""
    return [sys.executable, "-m", "stages.train", "--study", study, "--variant", variant, "--data", str(data),
            "--models", str(out / "models"), "--out", str(out / "runs"), "--timing", str(out / "timing")]


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """Run a command, capturing text output, never raising on failure; only from a test marked e2e."""
    assert _TIER["e2e"], f"{args[:4]}: a test that spawns a stage, dvc or training is marked @pytest.mark.e2e"
    return subprocess.run(args, cwd=cwd, env=subprocess_env(**env), capture_output=True, text=True,
                          timeout=1800)


def dvc(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """Run the dvc command line of this interpreter's environment."""
    return run([sys.executable, "-m", "dvc", *args], cwd, **env)


# The reproduced repo is built by a background process that starts as soon as the selected tests are known, while
# the tests that do not need it run first (see the ordering below), so its ~40 stages overlap their work. Under
# pytest-xdist (pytest.ini runs two workers) the workers share one build: the controller names its folder, the first
# worker to claim it starts the build, and every worker waits for the exit status the build writes there.
_BUILD: dict = {}
ROOT_KEY = "reproduced_root"


def _worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    """The build's folder: the controller's (or a run without workers) own; a worker's from the controller."""
    root = config.workerinput[ROOT_KEY] if _worker(config) else tempfile.mkdtemp(prefix="nnf-reproduced-")
    _BUILD["root"] = Path(root)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """Hand each xdist worker the controller's build folder."""
    node.workerinput[ROOT_KEY] = str(_BUILD["root"])


def _start_reproducing() -> None:
    root = _BUILD["root"]
    try:  # claimed once per session, whichever worker gets here first
        os.close(os.open(root / "claimed", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    start = time.perf_counter()  # the machine's speed, before the suite loads it: for the closing summary line
    if subprocess.run([sys.executable, "-c", "import keras"], capture_output=True, env=subprocess_env()).returncode == 0:
        (root / "import_keras_seconds").write_text(f"{time.perf_counter() - start:.2f}\n")
    log = (root / "reproduce.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "tests.reproduce", str(root / "repo")], cwd=REPO,
                               env=subprocess_env(**fake_kaggle.offline_guard()), stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)  # a group: stopped as one
    _BUILD.update(log=log, process=process)


def _needs_reproduced(item: pytest.Item) -> bool:
    return "reproduced" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that read the reproduced repo run last (a stable sort), after the others overlapped its build; among
    them the longest first, so that the other worker shares out the rest meanwhile."""
    items.sort(key=lambda item: (_needs_reproduced(item), item.get_closest_marker("longest") is None))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start building the reproduced repo when a selected test needs it."""
    if any(_needs_reproduced(item) for item in session.items):
        _start_reproducing()


def pytest_terminal_summary(terminalreporter) -> None:
    """The machine's speed beside the durations: the same suite takes about 3x longer on a slow day."""
    speed = _BUILD["root"] / "import_keras_seconds"
    timing = _BUILD["root"] / "repo" / "reports" / "pipeline_timing.json"
    if speed.is_file() and timing.is_file():
        import json

        measured = json.loads(timing.read_text())
        terminalreporter.write_line(
            f"machine speed: `import keras` {float(speed.read_text()):.1f} s (before the tests); the reproduced "
            f"repo's dvc repro {measured['total_seconds']:.0f} s over {len(measured['stages'])} stages while other "
            f"tests ran, its no-op dvc repro {measured['noop_repro_seconds']:.1f} s")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the build if the session was cut short; the controller (or a run without workers) deletes the folder,
    after the terminal summary has read it and every worker is done with it."""
    if "process" in _BUILD:
        if _BUILD["process"].poll() is None:  # stop dvc and its stages too
            os.killpg(_BUILD["process"].pid, signal.SIGKILL)
            _BUILD["process"].wait()
        _BUILD["log"].close()
    if not _worker(config):
        shutil.rmtree(_BUILD["root"], ignore_errors=True)


@pytest.fixture(scope="session")
def reproduced() -> Path:
    """The session's one repo copy after an offline `dvc repro` on tiny params (tests/tiny.py), committed.
    Read-only: a test that changes anything works on `reproduced_clone`."""
    _start_reproducing()  # a no-op once claimed
    status = _BUILD["root"] / "reproduce.status"  # written by tests.reproduce as it exits
    deadline = time.monotonic() + 3600
    while not status.is_file():
        if time.monotonic() > deadline:
            if "process" in _BUILD:
                os.killpg(_BUILD["process"].pid, signal.SIGKILL)
            raise TimeoutError(f"{status}: the reproduced repo was not built within an hour")
        time.sleep(1)
    assert status.read_text().strip() == "0", (_BUILD["root"] / "reproduce.log").read_text()[-5000:]
    return _BUILD["root"] / "repo"


def clone_reproduced(reproduced: Path, target: Path) -> Path:
    """A git clone of the reproduced repo whose DVC cache is the original's, with every output checked out: up to
    date without running a stage."""
    subprocess.run(["git", "clone", "-q", str(reproduced), str(target)], check=True, capture_output=True)
    (target / ".dvc" / "config.local").write_text(f"[cache]\n    dir = {reproduced / '.dvc' / 'cache'}\n")
    checked = dvc("checkout", cwd=target)
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]
    return target


@pytest.fixture
def reproduced_clone(reproduced, tmp_path) -> Path:
    """A clone of the reproduced repo for one test that changes things (sharing its DVC cache)."""
    return clone_reproduced(reproduced, tmp_path / "clone")


@pytest.fixture(scope="session")
def offline_raw(tmp_path_factory) -> Path:
    """data/raw/<dataset> for every dataset, written by the offline stand-ins."""
    from stages import config
    from stages.catalog.datasets import DATASETS
    from stages.ingest.raw import download

    root = tmp_path_factory.mktemp("raw")
    data = config.load(REPO / "params.yaml").data
    for name in DATASETS.names:
        download(DATASETS.get(name), data, root / name)
    return root


@pytest.fixture(scope="session")
def processed(offline_raw, tmp_path_factory) -> Path:
    """data/processed/<dataset> for every dataset, from the offline stand-ins."""
    from stages import config
    from stages.catalog.datasets import DATASETS
    from stages.ingest.processed import preprocess

    root = tmp_path_factory.mktemp("processed")
    data = config.load(REPO / "params.yaml").data
    for name in DATASETS.names:
        preprocess(DATASETS.get(name), data, offline_raw / name, root / name)
    return root
