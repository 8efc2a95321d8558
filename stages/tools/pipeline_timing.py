"""Time the pipeline (not a DVC stage): run `dvc repro`, then a no-op `dvc repro`, and report each stage's
wall time, its in-process training time and the overhead (wall minus training).

    python -m stages.tools.pipeline_timing [--force | --noop-only] [--no-imports] [--out reports/pipeline_timing.json]
        [--readme README.md]
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from stages.tools.bench import publish

# DVC's first line about a stage: "Running stage 'x':", "Stage 'x' didn't change, skipping", "Stage 'x' is cached".
STAGE_LINE = re.compile(r"^(?:Running stage|Stage) '([^']+)'")
README_START, README_END = "<!-- timing:start -->", "<!-- timing:end -->"


def stage_windows(lines: Iterable[tuple[float, str]], end: float) -> list[tuple[str, float, float]]:
    """From timestamped lines of DVC's output: (stage, its first line's time, the next stage's first line's time
    or `end`) in the order DVC ran them."""
    starts: list[tuple[float, str]] = []
    for stamp, line in lines:
        match = STAGE_LINE.match(line)
        if match and all(name != match.group(1) for _, name in starts):
            starts.append((stamp, match.group(1)))
    bounds = [stamp for stamp, _ in starts[1:]] + [end]
    return [(name, stamp, stop) for (stamp, name), stop in zip(starts, bounds)]


def stage_walls(lines: Iterable[tuple[float, str]], start: float, end: float) -> tuple[float, dict[str, float]]:
    """(seconds before the first stage, {stage: seconds from its first line to the next stage's first line, or
    to `end`})."""
    windows = stage_windows(lines, end)
    if not windows:
        return end - start, {}
    return windows[0][1] - start, {name: stop - begin for name, begin, stop in windows}


def stage_phases(lines: list[tuple[float, str]], end: float) -> dict[str, dict[str, float]]:
    """Per stage that ran: DVC's seconds before its command ("> ..." line: checking and removing outputs), the
    command's seconds (to "Updating lock file"), and DVC's seconds after it (lock rewrite, caching, up to the next
    stage's first line)."""
    phases = {}
    for name, begin, stop in stage_windows(lines, end):
        inside = [(stamp, line) for stamp, line in lines if begin <= stamp < stop]
        launched = next((stamp for stamp, line in inside if line.startswith("> ")), None)
        locked = next((stamp for stamp, line in inside if line.startswith("Updating lock file")), None)
        if launched is not None and locked is not None:
            phases[name] = {"dvc_before_seconds": round(launched - begin, 2),
                            "command_seconds": round(locked - launched, 2),
                            "dvc_after_seconds": round(stop - locked, 2)}
    return phases


def import_seconds(modules: Iterable[str], runs: int = 3) -> dict[str, float]:
    """Seconds to start Python and import each module (best of `runs`, fresh interpreters), beside a bare start:
    the share of a stage's overhead that is imports."""
    def best(code: str) -> float:
        times = []
        for _ in range(runs):
            begin = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
            times.append(time.perf_counter() - begin)
        return round(min(times), 2)

    return {"python": best("pass"), **{module: best(f"import {module}") for module in modules}}


def stage_modules(lines: Iterable[tuple[float, str]]) -> list[str]:
    """The `python -m` modules DVC ran, in first-run order, and keras (the train and foundations stages import it
    once their params are valid)."""
    launched = (re.match(r"^> python3? -m ([\w.]+)", line) for _, line in lines)
    found = dict.fromkeys(match.group(1) for match in launched if match)
    return [*found, "keras"]


def train_totals(reports: Path) -> dict[str, dict]:
    """Per train stage: in-process training seconds and optimizer steps, summed over its conditions' timing.json;
    and the foundations stage's seconds of fitting (its steps are not counted: 0)."""
    totals: dict[str, dict] = {}
    for timing in sorted(reports.glob("*/timing/*/**/timing.json")):
        study, variant = timing.relative_to(reports).parts[:3:2]
        entry = totals.setdefault(f"train_{study}@{variant}", {"training_seconds": 0.0, "steps": 0})
        content = json.loads(timing.read_text())
        entry["training_seconds"] += content["training_seconds"]
        entry["steps"] += sum(run["steps"] for run in content["runs"])
    fitted = reports / "foundations" / "timing.json"  # the opening study fits its small models in one stage
    if fitted.is_file():
        totals["foundations"] = {"training_seconds": json.loads(fitted.read_text())["training_seconds"], "steps": 0}
    return totals


def training_seconds(reports: Path) -> dict[str, float]:
    """In-process training time per train stage, summed over its conditions' timing.json files."""
    return {stage: entry["training_seconds"] for stage, entry in train_totals(reports).items()}


def timed_repro(args: list[str], echo: bool = True, cwd: Path | None = None, env: dict | None = None,
                on_start: Callable[[int], None] | None = None) -> tuple[float, float, list[tuple[float, str]]]:
    """Run `dvc repro ARGS`; return its start and end times and its output lines with their arrival times.
    `on_start` gets the child's process id as soon as it runs (to watch it from elsewhere)."""
    lines: list[tuple[float, str]] = []
    start = time.perf_counter()
    with subprocess.Popen([sys.executable, "-m", "dvc", "repro", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, bufsize=1, cwd=cwd, env=env) as child:
        if on_start:
            on_start(child.pid)
        for line in child.stdout:
            lines.append((time.perf_counter(), line.rstrip("\n")))
            if echo:
                print(line, end="", flush=True)
    end = time.perf_counter()
    if child.returncode != 0:
        raise SystemExit(f"dvc repro failed with exit code {child.returncode}")
    return start, end, lines


def summarize(before_first: float, walls: dict[str, float], training: dict[str, float], total: float) -> dict:
    """Per stage and per stage group (the part of the name before '@'): wall, training and overhead seconds."""
    stages = {name: {"wall_seconds": round(wall, 2), "training_seconds": round(training.get(name, 0.0), 2),
                     "overhead_seconds": round(wall - training.get(name, 0.0), 2)} for name, wall in walls.items()}
    groups: dict[str, dict] = {}
    for name, entry in stages.items():
        group = groups.setdefault(name.split("@")[0], {"stages": 0, "wall_seconds": 0.0, "training_seconds": 0.0,
                                                       "overhead_seconds": 0.0})
        group["stages"] += 1
        for key in ("wall_seconds", "training_seconds", "overhead_seconds"):
            group[key] = round(group[key] + entry[key], 2)
    trained = sum(entry["training_seconds"] for entry in stages.values())
    return {"total_seconds": round(total, 2), "dvc_before_first_stage_seconds": round(before_first, 2),
            "training_seconds": round(trained, 2), "overhead_seconds": round(total - trained, 2),
            "groups": groups, "stages": stages}


def add_phases(result: dict, phases: dict[str, dict[str, float]], imports: dict[str, float]) -> None:
    """Name the overhead: each stage's DVC and command seconds, their totals, and the import times."""
    for name, split in phases.items():
        result["stages"][name].update(split)
    result["dvc_seconds"] = round(result["dvc_before_first_stage_seconds"] + sum(
        split["dvc_before_seconds"] + split["dvc_after_seconds"] for split in phases.values()), 2)
    result["command_seconds"] = round(sum(split["command_seconds"] for split in phases.values()), 2)
    result["import_seconds"] = imports


def table(result: dict) -> str:
    """The README's Markdown table of one timed run."""
    lines = [f"Measured by `python -m stages.tools.pipeline_timing`: `dvc repro` took {result['total_seconds']:.0f} s, "
             f"of which {result['training_seconds']:.0f} s was training inside the stages and "
             f"{result['overhead_seconds']:.0f} s overhead (process start, imports, tracing, data loading, "
             f"writing outputs, DVC's own work); a no-op `dvc repro` then took {result['noop_repro_seconds']:.1f} s.",
             *([f"Of the overhead, {result['dvc_seconds']:.0f} s was DVC's own work before and after each command "
                f"(checking, removing outputs, rewriting dvc.lock, caching), the rest inside the commands. Starting "
                "Python and importing each stage module took (s): " + ", ".join(
                    f"{module.removeprefix('stages.')} {seconds:.1f}" for module, seconds in
                    result["import_seconds"].items()) + "."] if result.get("import_seconds") else []),
             "", "| stages | count | wall (s) | training (s) | overhead (s) |", "|---|---|---|---|---|"]
    for name, group in sorted(result["groups"].items(), key=lambda item: -item[1]["wall_seconds"]):
        lines.append(f"| {name} | {group['stages']} | {group['wall_seconds']:.1f} | {group['training_seconds']:.1f} "
                     f"| {group['overhead_seconds']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rerun every stage (`dvc repro --force`)")
    parser.add_argument("--out", type=Path, default=Path("reports/pipeline_timing.json"))
    parser.add_argument("--readme", type=Path)
    parser.add_argument("--no-imports", action="store_true", help="skip timing the stage modules' imports")
    parser.add_argument("--noop-only", action="store_true", help="time only the no-op `dvc repro`, keeping the "
                        "stage timings already in OUT")
    args = parser.parse_args(argv)
    if args.noop_only:
        result = json.loads(args.out.read_text())
    else:
        start, end, lines = timed_repro(["--force"] if args.force else [])
        before_first, walls = stage_walls(lines, start, end)
        result = summarize(before_first, walls, training_seconds(Path("reports")), end - start)
        add_phases(result, stage_phases(lines, end), {} if args.no_imports else import_seconds(stage_modules(lines)))
    noop_start, noop_end, _ = timed_repro([], echo=False)
    result["noop_repro_seconds"] = round(noop_end - noop_start, 2)
    publish(result, args.out, table(result), args.readme, README_START, README_END)


if __name__ == "__main__":
    main()
