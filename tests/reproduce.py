"""Build the suite's shared reproduced repo: a copy of the repository on tiny params after one timed offline
`dvc repro`, everything committed, so tests can `git clone` it and share its DVC cache.

    python -m tests.reproduce TARGET
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from stages.tools.workspace import commit, copy_repo
from tests.tiny import write_tiny_params


def reproduce(target: Path) -> Path:
    """Copy the repo to `target`, shrink its params, run `dvc repro` (timed by pipeline_timing) and commit."""
    repo = copy_repo(target)
    write_tiny_params(repo)
    commit(repo, "tiny params")
    subprocess.run([sys.executable, "-m", "stages.tools.pipeline_timing"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    commit(repo, "reproduced")
    return repo


if __name__ == "__main__":
    reproduce(Path(sys.argv[1]))
