"""A trained variant as its train stage left it: metrics, every run's history, and the runs it chose."""
from __future__ import annotations

import json
from pathlib import Path

from stages.analysis import replicates


def load_variant(folder: Path) -> dict:
    """A trained variant (one condition): its metrics and every run's history."""
    read = lambda name: json.loads((folder / name).read_text())  # noqa: E731
    return {"metrics": read("metrics.json"), "runs": read("history.json")["runs"]}


def chosen_runs(variant: dict) -> list[dict]:
    """The runs (one per seed) of the sweep point the variant chose on validation."""
    best = variant["metrics"]["best_setting"]
    return [run for run in variant["runs"] if run["setting"] == best]


def histories(variant: dict) -> list[list[dict]]:
    """The per-epoch histories of the chosen runs."""
    return [run["history"] for run in chosen_runs(variant)]


def init_noise_ratio(variant: dict) -> float | None:
    """Mean over the chosen runs of the relative gradient noise measured at initialization."""
    return replicates.mean_std([run["history"][0].get("noise_ratio") for run in chosen_runs(variant)])[0]
