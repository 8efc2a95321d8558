"""Config objects for unit tests: params.yaml's own defaults (the code has none) with the changes a test names."""
from __future__ import annotations

from pathlib import Path

from stages import config

PARAMS = config.load(Path(__file__).resolve().parents[1] / "params.yaml")


def train_config(**changes) -> config.TrainConfig:
    """params.yaml's `defaults` without the inner sweep and target, then `changes`, validated as a whole."""
    return config.with_changes(PARAMS.defaults, **{"sweep": {}, "target": None, **changes})


def report_config(**changes) -> config.ReportConfig:
    """params.yaml's `report` thresholds with `changes`."""
    return config.ReportConfig.model_validate({**PARAMS.report.model_dump(), **changes})
