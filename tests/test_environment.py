"""The environment the tests run in is exactly the lock: every package of requirements.txt at its pinned version,
and nothing else (the metrics are byte-reproducible only with the same libraries)."""
from __future__ import annotations

import re
from importlib import metadata

from tests.conftest import REPO

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", re.M)


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path) -> dict[str, str]:
    """{name: version} of every `name==version` line of a requirements file."""
    return {canonical(name): version for name, version in PIN.findall(path.read_text())}


def test_the_lock_pins_every_direct_dependency_as_requirements_in_does():
    direct, locked = pins(REPO / "requirements.in"), pins(REPO / "requirements.txt")
    assert direct and all(locked.get(name) == version for name, version in direct.items())
    assert len(locked) > 2 * len(direct)  # the transitive ones too
    text = (REPO / "requirements.txt").read_text()
    assert all(f"{name}==" in text and "--hash=sha256:" in text for name in direct)


def test_the_installed_environment_is_the_lock():
    locked = pins(REPO / "requirements.txt")
    installed = {canonical(dist.metadata["Name"]): dist.version for dist in metadata.distributions()}
    different = {name: (version, installed.get(name)) for name, version in locked.items()
                 if installed.get(name) != version}
    extra = sorted(set(installed) - set(locked) - {"pip"})
    assert different == {} and extra == [], (
        f"installed packages differ from requirements.txt: {different}; not in the lock: {extra}. "
        "Run `pip install -r requirements.txt` (README: Dependencies)")
