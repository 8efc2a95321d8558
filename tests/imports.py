"""The import graph of `stages`, read from the source (every import, also inside functions; not type-only ones)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_file(name: str) -> Path | None:
    """stages.a.b -> stages/a/b.py or stages/a/b/__init__.py (relative to the repo root), None if neither exists."""
    base = ROOT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path.relative_to(ROOT)
    return None


def module_name(path: Path) -> str:
    """stages/a/b.py -> stages.a.b; stages/a/__init__.py -> stages.a."""
    parts = path.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def direct_imports(path: Path) -> set[str]:
    """The `stages` modules one file imports (a `from package import name` counts the submodule `name` too)."""
    tree = ast.parse((ROOT / path).read_text())
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _type_only(node)
               for child in node.body for n in ast.walk(child)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "stages")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "stages":
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names
                         if module_file(f"{node.module}.{alias.name}") is not None)
    return {name for name in found if module_file(name) is not None}


def closure(module: str) -> set[Path]:
    """Every file of `stages` that importing `module` executes: its imports, transitively, and their packages."""
    seen: set[Path] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):  # a module's packages run their __init__ first
            path = module_file(".".join(parts[:depth]))
            if path is not None and path not in seen:
                seen.add(path)
                todo.extend(direct_imports(path))
    return seen
