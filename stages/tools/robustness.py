"""Which concept verdicts survive a float perturbation that stands in for another CPU (not a DVC stage): the whole
pipeline again in a copy of the repository with the last bit of every initial weight flipped, its concept table
against this workspace's, and how far the perturbation moved the runs beside how far another machine moved them.

    python -m stages.tools.robustness [--against REV] [--out reports/robustness.json] [--readme README.md]
        [--work DIR]

Run it on an up-to-date workspace (`dvc repro` first): it compares with this workspace's reports/concepts.json,
headline.json files and dvc.lock. `--against REV` also compares this workspace's runs with the commit REV made on
another machine (its dvc.lock and headline.json files), the movement the perturbation is meant to stand in for.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from stages.nn import perturbation
from stages.reporting import robustness
from stages.tools.bench import peak_gflops, publish
from stages.tools.pipeline_timing import import_seconds, timed_repro
from stages.tools.workspace import REPO, copy_repo

README_START, README_END = "<!-- robustness:start -->", "<!-- robustness:end -->"
KIND = "init_ulp"


def run_hashes(lock: dict) -> dict[str, tuple[str, str]]:
    """Each train stage's hash of its runs folder (histories and DVCLive files) in a parsed dvc.lock, beside the
    params it trained with (as text, to tell a changed design from a moved run)."""
    hashes = {}
    for name, stage in (lock.get("stages") or {}).items():
        if name.startswith("train_"):
            runs = next((out for out in stage.get("outs", []) if "/runs/" in out["path"]), None)
            if runs is not None:
                hashes[name] = (runs["md5"], json.dumps(stage.get("params"), sort_keys=True))
    return hashes


def test_metrics(headlines: dict[str, dict]) -> dict[str, float]:
    """`study:variant[/condition]` -> the test metric, from every study's headline.json (parsed)."""
    return {f"{study}:{key}": entry["test_metric"] for study, headline in headlines.items()
            for key, entry in headline.items() if isinstance(entry, dict) and entry.get("test_metric") is not None}


def movement(ours_lock: dict, theirs_lock: dict, ours: dict[str, dict], theirs: dict[str, dict]) -> dict:
    """How far one run of the pipeline moved from another, over the train stages both ran with the same params:
    how many wrote runs that differ in any byte, and which of their variants' test metrics (cross-fitted means over
    seeds) changed, with the largest moves."""
    a, b = run_hashes(ours_lock), run_hashes(theirs_lock)
    shared = sorted(name for name in set(a) & set(b) if a[name][1] == b[name][1])
    metrics_a, metrics_b = test_metrics(ours), test_metrics(theirs)
    moves = {key: round(metrics_b[key] - metrics_a[key], 6) for key in sorted(set(metrics_a) & set(metrics_b))
             if _stage(key) in shared}
    moved = {key: delta for key, delta in moves.items() if delta != 0}
    return {"train_stages": len(shared), "train_stages_changed": sum(a[s][0] != b[s][0] for s in shared),
            "variants": len(moves), "variants_moved": len(moved),
            "median_abs_move": round(statistics.median(abs(d) for d in moved.values()), 6) if moved else 0.0,
            "largest_moves": dict(sorted(moved.items(), key=lambda item: -abs(item[1]))[:5])}


def _stage(key: str) -> str:
    """The train stage behind a `study:variant[/condition]` key."""
    study, _, variant = key.partition(":")
    return f"train_{study}@{variant.partition('/')[0]}"


def headlines(reports: Path) -> dict[str, dict]:
    """Every study's headline.json under a reports folder, by study."""
    return {path.parent.name: json.loads(path.read_text()) for path in sorted(reports.glob("*/headline.json"))}


def headlines_at(rev: str) -> dict[str, dict]:
    """Every study's headline.json as committed at `rev`."""
    listed = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, "reports"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout.split()
    return {Path(name).parent.name: json.loads(_show(rev, name)) for name in listed if name.endswith("/headline.json")}


def _show(rev: str, name: str) -> str:
    return subprocess.run(["git", "show", f"{rev}:{name}"], cwd=REPO, check=True, capture_output=True,
                          text=True).stdout


def verdict_changes(ours: list[dict], theirs: list[dict], details: tuple[str, ...] = ()) -> list[dict]:
    """The concept lines whose outcome (shown, not resolved, ...) differs between two runs' concepts.json, with the
    `details` keys (effect, p_holm, ...) of the other run's line."""
    by_line = {(line["concept"], line["compares"]): line for line in theirs}
    changed = []
    for line in ours:
        other = by_line.get((line["concept"], line["compares"]), {})
        if other.get("outcome") != line["outcome"]:
            changed.append({"concept": line["concept"], "compares": line["compares"], "verdict": line["verdict"],
                            "other": other.get("verdict", "missing"), **{key: other.get(key) for key in details}})
    return changed


def machine() -> dict:
    """What the figures were measured on: processor, `import keras` seconds and the NumPy matmul peak."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return {"processor": model, "import_keras_seconds": import_seconds(["keras"], runs=1)["keras"],
            "matmul_gflops": round(peak_gflops(2048)["numpy"], 1)}


def check(work: Path, against: str | None) -> dict:
    """Run the perturbed pipeline in `work` and compare it with this workspace (and with `against`)."""
    lock = yaml.safe_load((REPO / "dvc.lock").read_text())
    ours = json.loads((REPO / "reports" / "concepts.json").read_text())
    repo = copy_repo(work / "repo")
    env = {**os.environ, perturbation.ENV: KIND,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    start, end, _ = timed_repro([], cwd=repo, env=env)
    theirs = json.loads((repo / "reports" / "concepts.json").read_text())
    changed = verdict_changes(ours, theirs)
    result = {"perturbation": KIND, "machine": machine(), "seconds": round(end - start),
              "compared_lines": len(ours), "changed": changed,
              "baseline_outcomes": {robustness.line_key(line): line["outcome"] for line in ours},
              "moved_by_perturbation": movement(lock, yaml.safe_load((repo / "dvc.lock").read_text()),
                                                headlines(REPO / "reports"), headlines(repo / "reports"))}
    if against:
        result["moved_by_another_machine"] = {"against": against, **movement(
            yaml.safe_load(_show(against, "dvc.lock")), lock, headlines_at(against), headlines(REPO / "reports"))}
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="a commit whose dvc.lock and headlines another machine made")
    parser.add_argument("--out", type=Path, default=Path("reports/robustness.json"))
    parser.add_argument("--readme", type=Path)
    parser.add_argument("--work", type=Path, help="a new folder to run in, kept afterwards (default: a temporary one)")
    args = parser.parse_args(argv)
    if args.work:
        args.work.mkdir(parents=True)
        result = check(args.work, args.against)
    else:
        with tempfile.TemporaryDirectory(prefix="robustness-") as work:
            result = check(Path(work), args.against)
    publish(result, args.out, robustness.summary(result), args.readme, README_START, README_END)


if __name__ == "__main__":
    main()
