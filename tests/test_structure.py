"""The package's layers and dvc.yaml's code deps, checked against the imports the source really makes."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from tests.imports import ROOT, closure, direct_imports, module_name

# Imports flow down this list: a package may import from packages after it, never from one before it.
LAYERS = ("basics", "reporting", "nn", "analysis", "ingest", "reference", "config", "catalog", "common")
ENTRY_POINTS = sorted(p.relative_to(ROOT) for p in (ROOT / "stages").glob("*.py") if p.name != "__init__.py")
LIBRARY = sorted(p.relative_to(ROOT) for p in (ROOT / "stages").rglob("*.py")
                 if len(p.relative_to(ROOT).parts) > 2 and "__pycache__" not in p.parts)


def trivial(path: Path) -> bool:
    """A package __init__ holding only its docstring: editing it cannot change what a stage computes."""
    return path.name == "__init__.py" and all(isinstance(node, ast.Expr) for node in ast.parse(
        (ROOT / path).read_text()).body)


def stage_code() -> dict[str, tuple[str, list[str]]]:
    """{stage: (its `python -m` module, its deps under stages/)} for every stage of dvc.yaml."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    found = {}
    for name, stage in stages.items():
        module = re.search(r"python3? -m (stages[\w.]*)", stage["cmd"]).group(1)
        deps = [str(d) for d in stage.get("deps", []) if str(d).startswith("stages")]
        found[name] = (module, deps)
    return found


def package(path: Path) -> str | None:
    """The layer a file of stages/ belongs to (None for an entry point or stages/__init__.py)."""
    parts = path.parts
    return parts[1] if len(parts) > 2 else None


def expected_deps(module: str) -> list[str]:
    """A stage's code deps: its import closure, a folder named where the stage imports every file in it."""
    needed = {path for path in closure(module) if not trivial(path)}
    deps = set()
    for path in needed:
        folder = path.parent
        files = {p.relative_to(ROOT) for p in (ROOT / folder).glob("*.py")}
        whole = folder != Path("stages") and all(f in needed or trivial(f) for f in files)
        deps.add(str(folder) if whole else str(path))
    return sorted(deps)


@pytest.mark.parametrize("stage", sorted(stage_code()))
def test_dvc_deps_are_exactly_the_code_the_stage_imports(stage):
    """Every file a stage imports is a dep (an edit re-runs it), and no dep is code it does not import."""
    module, deps = stage_code()[stage]
    expected = expected_deps(module)
    assert sorted(deps) == expected, (
        f"dvc.yaml stage {stage!r}: its stages/ deps must be exactly\n  - " + "\n  - ".join(expected))


def test_every_entry_point_is_a_dvc_stage_or_says_why_not():
    commands = {module for module, _ in stage_code().values()}
    assert {module_name(p) for p in ENTRY_POINTS} == commands


@pytest.mark.parametrize("path", ENTRY_POINTS, ids=str)
def test_no_stage_imports_another_stage(path):
    entry = {module_name(p) for p in ENTRY_POINTS}
    assert not (direct_imports(path) & entry - {module_name(path)})


@pytest.mark.parametrize("path", LIBRARY, ids=str)
def test_imports_flow_down_the_layers(path):
    """A library module imports only its own package and the layers below it; nothing imports tools or a stage."""
    own = package(path)
    for name in direct_imports(path):
        parts = name.split(".")
        target = parts[1] if len(parts) > 1 else None
        if target is None or target == own:
            continue
        assert target in LAYERS or own == "tools", f"{path} imports {name}: a stage entry point or a tool"
        if own != "tools":
            assert LAYERS.index(target) > LAYERS.index(own), f"{path} imports {name}, a layer above {own}"


def test_no_import_cycles():
    graph = {module_name(p): direct_imports(p) for p in LIBRARY + ENTRY_POINTS}
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for other in sorted(graph.get(name, ())):
            assert state.get(other) != 1, "import cycle: " + " -> ".join(trail + [name, other])
            if other not in state:
                visit(other, trail + [name])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_type_checking_imports_and_function_imports_are_read():
    """The closure follows imports inside functions (the train stage imports TensorFlow late) but not type-only ones."""
    assert Path("stages/nn/training.py") in closure("stages.train")
    assert Path("stages/basics/probing.py") in closure("stages.foundations")
    assert not any(p.parts[1] == "config" for p in closure("stages.catalog.losses") if len(p.parts) > 2)
