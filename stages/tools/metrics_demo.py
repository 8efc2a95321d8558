"""Show what `dvc metrics diff` prints between two optimizer experiments (not a DVC stage): run one experiment in a
temporary workspace (`dvc exp run --temp`, the workspace is left alone) and write the real output of
`dvc metrics diff` against HEAD into the README.

    python -m stages.tools.metrics_demo [--set ++studies.optimizers.set.epochs=10] [--readme README.md]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from stages.tools.bench import update_readme

README_START, README_END = "<!-- metrics-diff:start -->", "<!-- metrics-diff:end -->"
TARGET = "reports/optimizers/headline.json"


def dvc(*args: str) -> str:
    """Run a dvc command; its standard output, or exit with its error."""
    done = subprocess.run([sys.executable, "-m", "dvc", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"dvc {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout


def section(change: str, diff: str) -> str:
    """The README text: the commands as run and the diff as printed."""
    return "\n".join(["```console", f"$ dvc exp run --temp -S {change}",
                      f"$ dvc metrics diff HEAD <that experiment> --targets {TARGET} --no-path", diff.rstrip(), "```"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Hydra's `++` sets the key whether or not the study's `set:` has it yet
    parser.add_argument("--set", default="++studies.optimizers.set.epochs=10", help="the experiment's -S change")
    parser.add_argument("--readme", type=Path)
    args = parser.parse_args(argv)
    before = set(dvc("exp", "ls", "--name-only").split())
    dvc("exp", "run", "--temp", "-S", args.set)
    made = sorted(set(dvc("exp", "ls", "--name-only").split()) - before)
    if len(made) != 1:
        raise SystemExit(f"expected one new experiment, found {made}")
    diff = dvc("metrics", "diff", "HEAD", made[0], "--targets", TARGET, "--no-path")
    text = section(args.set, diff)
    if args.readme:
        update_readme(args.readme, text, README_START, README_END)
    print(text)


if __name__ == "__main__":
    main()
