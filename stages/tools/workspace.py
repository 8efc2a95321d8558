"""A throwaway copy of the repository as a fresh git repository, for tests and rehearsals that run `dvc repro`."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def copy_repo(target: Path, source: Path = REPO) -> Path:
    """Make `target` a fresh git repository holding the project's files as they are in `source`'s working tree."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=source,
                            capture_output=True, text=True, check=True).stdout.split("\n")
    for name in filter(None, listed):
        if (source / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target / name)
    tracked = subprocess.run(["git", "ls-files"], cwd=source, capture_output=True, text=True, check=True).stdout
    for command in (["git", "init", "-q"], ["git", "add", "-A"]):
        subprocess.run(command, cwd=target, check=True, capture_output=True)
    # Track exactly what the repository tracks, ignored or not, so a file git and DVC both claim fails here too.
    subprocess.run(["git", "add", "-f", "--pathspec-from-file=-"], cwd=target, input=tracked, text=True,
                   check=True, capture_output=True)
    commit(target, "copy")
    return target


def commit(repo: Path, message: str) -> None:
    """Commit everything staged and changed in `repo` under a throwaway identity."""
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", message], cwd=repo,
                   check=True, capture_output=True)
