"""Build the suite's shared reproduced repo: a copy of the repository on tiny params after one timed offline
`dvc repro`, everything committed, so tests can `git clone` it and share its DVC cache.

    python -m tests.reproduce TARGET
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stages.config.recording import LOG_VARIABLE
from stages.tools.workspace import commit, copy_repo
from tests.tiny import write_tiny_params


def reads_log(repo: Path) -> Path:
    """Where the reproduced repo's stages recorded the params keys they read (beside the repo, not in it)."""
    return repo.parent / "params_reads.jsonl"


def reproduce(target: Path) -> Path:
    """Copy the repo to `target`, shrink its params, run `dvc repro` (timed by pipeline_timing) and commit."""
    repo = copy_repo(target)
    write_tiny_params(repo)
    commit(repo, "tiny params")
    subprocess.run([sys.executable, "-m", "stages.tools.pipeline_timing", "--no-imports"], cwd=repo, check=True,
                   env={**os.environ, LOG_VARIABLE: str(reads_log(repo))})
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    commit(repo, "reproduced")
    return repo


if __name__ == "__main__":
    target, status = Path(sys.argv[1]), "1"
    try:
        reproduce(target)
        status = "0"
    finally:  # the suite's workers wait for this file, so it is written whatever happened
        (target.parent / "reproduce.status").write_text(status + "\n")
