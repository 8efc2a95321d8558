"""Rehearse the real thing (not a DVC stage): Kaggle-layout files at full size served on 127.0.0.1 by the Kaggle
stand-in, then `dvc repro` with `data.source: kaggle` in a copy of the repository, timed per stage with its
training time, optimizer steps per second and peak memory.

    python -m stages.tools.rehearsal [--scale 1.0] [--params FILE] [--targets STAGE ...]
        [--out reports/rehearsal.json] [--readme README.md] [--work DIR]
    python -m stages.tools.rehearsal --refresh [--readme README.md]   # after the default run's verdicts moved
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

from stages.common import atomic
from stages.common.errors import UserError
from stages.tools import kaggle_mirror, robustness
from stages.tools.bench import pss_kb, publish, tree_processes
from stages.tools.pipeline_timing import stage_windows, timed_repro, train_totals
from stages.tools.workspace import REPO, commit, copy_repo

README_START, README_END = "<!-- rehearsal:start -->", "<!-- rehearsal:end -->"
SAMPLE_SECONDS = 1.0  # reading a process's memory map costs ~25 ms: once a second in a long stage (~3% of a core) ...
POLL_SECONDS = 0.1  # ... but every 0.1 s in a process's first second, when a short stage reaches its peak; listing
# the process tree to notice a new process costs ~4 ms


class TreeMemory:
    """Samples the proportional set size summed over a process's descendants (the stage commands DVC runs, not
    DVC itself), from another thread: every 0.1 s during the second after the set of descendants changes (a new
    stage, a new worker), then once a second, so a stage shorter than a second is measured at its peak too."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (perf_counter time, MB)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, pid: int) -> None:
        """Start sampling `pid`'s process tree until `stop()`."""
        self._thread = threading.Thread(target=self._sample, args=(pid,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def peak_between(self, start: float, stop: float) -> float:
        """The largest sample (MB) taken in [start, stop); 0 when none was."""
        return max((mb for stamp, mb in self.samples if start <= stamp < stop), default=0.0)

    def _sample(self, pid: int) -> None:
        seen: set[int] = set()
        changed = last = float("-inf")
        while not self._stop.is_set():
            processes = tree_processes(pid, include_root=False)
            pids = {process.pid for process in processes}
            now = time.perf_counter()  # after the listing: the sample describes the processes found then
            if pids != seen:
                changed, seen = now, pids
            if pids and (now - changed < SAMPLE_SECONDS or now - last >= SAMPLE_SECONDS):
                self.samples.append((now, pss_kb(processes) / 1024))
                last = now
            self._stop.wait(POLL_SECONDS)


def kaggle_env(server: kaggle_mirror.FakeKaggle, home: Path) -> dict[str, str]:
    """The environment of the rehearsed `dvc repro`: this environment without its own Kaggle credentials, pointed
    at the stand-in, with this interpreter's bin first on PATH."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KAGGLE_")}
    env.update(kaggle_mirror.client_env(server, home))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return env


def data_rows(repo: Path) -> dict[str, dict]:
    """Rows per split of every processed dataset, and where it came from."""
    rows = {}
    for meta in sorted((repo / "data" / "processed").glob("*/meta.json")):
        content = json.loads(meta.read_text())
        rows[meta.parent.name] = {"source": content["source"], **{split: content["counts"][split]
                                                                  for split in ("train", "val", "test")}}
    return rows


def rehearse(params_file: Path, scale: float, targets: list[str], work: Path, keep: Path | None = None) -> dict:
    """Run the rehearsal in `work` and return its measurements; with `keep`, the report it produced goes there."""
    repo = copy_repo(work / "repo")
    params = yaml.safe_load(params_file.read_text())
    params["data"]["source"] = "kaggle"
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    commit(repo, "rehearsal: data from the Kaggle stand-in")
    (work / "home").mkdir()
    started = time.perf_counter()
    with kaggle_mirror.FakeKaggle() as server:
        server.archives.update(kaggle_mirror.archives(scale))
        prepared = time.perf_counter() - started
        memory = TreeMemory()
        try:
            start, end, lines = timed_repro(targets, cwd=repo, env=kaggle_env(server, work / "home"),
                                            on_start=memory.watch)
        finally:
            memory.stop()
    trained = train_totals(repo / "reports")
    stages = {}
    for name, begin, stop in stage_windows(lines, end):
        entry = trained.get(name, {"training_seconds": 0.0, "steps": 0})
        stages[name] = {"wall_seconds": round(stop - begin, 2), "training_seconds": round(entry["training_seconds"], 2),
                        "steps": entry["steps"], "peak_memory_mb": round(memory.peak_between(begin, stop), 1),
                        "steps_per_second": (round(entry["steps"] / entry["training_seconds"])
                                             if entry["steps"] else None)}
    result = {"scale": scale, "targets": targets, "files_seconds": round(prepared, 2),
              "total_seconds": round(end - start, 2),
              "training_seconds": round(sum(s["training_seconds"] for s in stages.values()), 2),
              "peak_memory_mb": max((s["peak_memory_mb"] for s in stages.values()), default=0.0),
              "data": data_rows(repo), "stages": stages, "machine": robustness.machine(),
              "study_rows": study_rows(REPO / "reports", repo / "reports")}
    if (repo / "reports" / "concepts.json").is_file():
        result["concepts"] = concepts_at_size(REPO / "reports" / "concepts.json", repo / "reports" / "concepts.json")
        if keep is not None:
            keep_report(repo, keep)
    return result


def trained_rows(reports: Path) -> dict[str, int]:
    """Per study, the most training rows any of its variants trained on (a condition may take a share of them)."""
    return {path.parent.name: max((e.get("n_train") or 0 for e in json.loads(path.read_text()).values()
                                   if isinstance(e, dict)), default=0)
            for path in sorted(reports.glob("*/summary.json")) if path.parent.name != "foundations"}


def study_rows(default: Path, rehearsed: Path) -> dict[str, dict]:
    """Per study, the training rows its variants trained on in the default run and in the rehearsal."""
    ours = trained_rows(default)
    return {study: {"default": ours.get(study), "rehearsal": count} for study, count in trained_rows(rehearsed).items()}


def concepts_at_size(default: Path, rehearsed: Path) -> dict:
    """The concept lines whose outcome at full size differs from the default run's, and how many were shown."""
    ours, theirs = json.loads(default.read_text()), json.loads(rehearsed.read_text())
    shown = [line for line in ours if line["outcome"] in SHOWN]
    return {"lines": len(ours), "shown_by_default": len(shown),
            "shown_at_size": sum(line["outcome"] in SHOWN for line in theirs),
            "changed": robustness.verdict_changes(ours, theirs, details=("effect", "p_holm", "power"))}


def refresh(result: dict, kept: Path, default: Path = REPO / "reports") -> dict:
    """A whole-suite rehearsal's comparison with the default run (`default`: its reports) redone from the report it
    kept, after the default run moved; a rehearsal of some stages, or one without a kept report, is a UserError."""
    if result.get("targets") or "concepts" not in result or not (kept / "concepts.json").is_file():
        raise UserError(f"--refresh: {kept}/concepts.json and a whole-suite rehearsal's result (no --targets) are "
                        "needed; this one has none to compare: rerun the rehearsal without --targets")
    rows = trained_rows(default)
    return {**result, "concepts": concepts_at_size(default / "concepts.json", kept / "concepts.json"),
            "study_rows": {study: {**count, "default": rows.get(study)}
                           for study, count in result.get("study_rows", {}).items()}}


SHOWN = ("shown", "better", "worse", "equivalent", "disagrees")  # outcomes a row states as found


def keep_report(repo: Path, folder: Path) -> None:
    """The rehearsed run's report (Markdown, figures, concept verdicts) into `folder`, replacing what was there."""
    with atomic.staged_dir(folder) as staging:
        shutil.copyfile(repo / "reports" / "README.md", staging / "README.md")
        shutil.copyfile(repo / "reports" / "concepts.json", staging / "concepts.json")
        shutil.copytree(repo / "reports" / "figures", staging / "figures")


def table(result: dict) -> str:
    """The README's Markdown table of one rehearsal, grouped by stage kind."""
    groups: dict[str, dict] = {}
    for name, stage in result["stages"].items():
        group = groups.setdefault(name.split("@")[0], {"stages": 0, "wall": 0.0, "training": 0.0, "steps": 0,
                                                       "memory": 0.0})
        group["stages"] += 1
        group["wall"] += stage["wall_seconds"]
        group["training"] += stage["training_seconds"]
        group["steps"] += stage["steps"]
        group["memory"] = max(group["memory"], stage["peak_memory_mb"])
    rows = ", ".join(f"{name} {d['train']:,}/{d['val']:,}/{d['test']:,}" for name, d in result["data"].items())
    targets = "".join(f" {target}" for target in result.get("targets", []))
    machine = result.get("machine")
    on = (f" on {machine['processor']} (`import keras` {machine['import_keras_seconds']} s, NumPy matmul "
          f"{machine['matmul_gflops']:.0f} GFLOP/s)") if machine else ""
    lines = [f"Measured by `python -m stages.tools.rehearsal --scale {result['scale']:g}"
             f"{' --targets' + targets if targets else ''}`{on} (train/val/test rows: "
             f"{rows}): `dvc repro` took {result['total_seconds']:.0f} s, {result['training_seconds']:.0f} s of it "
             f"training; the largest stage peaked at {result['peak_memory_mb']:.0f} MB.", "",
             "| stages | count | wall (s) | training (s) | steps/s | peak memory (MB) |", "|---|---|---|---|---|---|"]
    for name, group in sorted(groups.items(), key=lambda item: -item[1]["wall"]):
        rate = f"{group['steps'] / group['training']:,.0f}" if group["steps"] else "-"
        lines.append(f"| {name} | {group['stages']} | {group['wall']:.1f} | {group['training']:.1f} | {rate} "
                     f"| {group['memory']:.0f} |")
    return "\n".join(lines + study_table(result))


def study_table(result: dict) -> list[str]:
    """The rows each study trained on at both sizes, and what became of the concept verdicts at full size."""
    lines = []
    if result.get("study_rows"):
        lines += ["", "| study | training rows, default run | training rows, this rehearsal |", "|---|---|---|"]
        lines += [f"| {study} | {rows['default'] or 0:,} | {rows['rehearsal']:,} |"
                  for study, rows in result["study_rows"].items()]
    found = result.get("concepts")
    if found:
        changed = found["changed"]
        lines += ["", f"Its report is kept in [reports/rehearsal/README.md](reports/rehearsal/README.md): of the "
                  f"{found['lines']} concept lines, {found['shown_by_default']} state a finding in the default run and "
                  f"{found['shown_at_size']} at this size; {len(changed)} read otherwise at this size"
                  + (":" if changed else ".")]
        lines += [f"- {c['concept']} (`{c['compares']}`): {c['verdict']} -> {c['other']}"
                  + (f" (at this size: {c['effect']}; adjusted p {c['p_holm']}, power {c['power']})"
                     if c.get("effect") not in (None, "-") else "") for c in changed]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of the real row counts (1.0: full size)")
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml", help="params for the rehearsed run")
    parser.add_argument("--targets", nargs="*", default=[], help="stages to reproduce (default: all)")
    parser.add_argument("--out", type=Path, default=Path("reports/rehearsal.json"))
    parser.add_argument("--readme", type=Path)
    parser.add_argument("--report", type=Path, default=Path("reports/rehearsal"), help="where a whole-suite "
                        "rehearsal keeps the report it produced (README.md, figures/, concepts.json)")
    parser.add_argument("--work", type=Path, help="a new folder to rehearse in, kept afterwards (default: a temporary "
                        "one)")
    parser.add_argument("--refresh", action="store_true", help="train nothing: compare the kept report's verdicts "
                        "with the default run's again and rewrite OUT (and the README table)")
    args = parser.parse_args(argv)
    if args.refresh:
        try:
            result = refresh(json.loads(args.out.read_text()), args.report)
        except UserError as error:
            parser.error(str(error))
        publish(result, args.out, table(result), args.readme, README_START, README_END)
        return
    if not 0 < args.scale <= 1:
        parser.error(f"--scale {args.scale}: allowed: more than 0, at most 1")
    keep = None if args.targets else args.report  # only a whole-suite rehearsal has a report to keep
    if args.work:
        args.work.mkdir(parents=True)
        result = rehearse(args.params, args.scale, args.targets, args.work, keep)
    else:
        with tempfile.TemporaryDirectory(prefix="rehearsal-") as work:
            result = rehearse(args.params, args.scale, args.targets, Path(work), keep)
    publish(result, args.out, table(result), args.readme, README_START, README_END)


if __name__ == "__main__":
    main()
