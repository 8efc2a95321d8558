"""Tiny params for every test that trains: the repo's params.yaml shrunk, then checked by the config code, so a
study that gains seeds, grid points or variants never slows the suite."""
from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import yaml

from stages import config
from stages.tools.workspace import REPO

PARAMS = yaml.safe_load((REPO / "params.yaml").read_text())
SEEDS, EPOCHS, PROBE = [0, 1], 2, 64


def tiny_vary(params: dict = PARAMS) -> dict[str, list[str]]:
    """Two variants per study, in params order: its baseline and the first other one."""
    chosen = {}
    for name, spec in params["studies"].items():
        baseline = params["report"]["studies"][name]["baseline"]
        other = next(v for v in spec["variants"] if v != baseline)
        chosen[name] = [v for v in spec["variants"] if v in (baseline, other)]
    return chosen


TINY_VARY = tiny_vary()


def _shrink(overrides: dict) -> None:
    """Two seeds, two epochs and at most two points per sweep axis wherever `overrides` sets them."""
    if "seeds" in overrides:
        overrides["seeds"] = list(SEEDS)
    if "epochs" in overrides:
        overrides["epochs"] = EPOCHS
    if overrides.get("sweep"):
        overrides["sweep"] = {key: values[:2] for key, values in overrides["sweep"].items()}


def tiny(params: dict) -> dict:
    """`params` (the repo's, as parsed YAML) shrunk to a few seconds of training per variant; a new dict."""
    params = copy.deepcopy(params)
    params["defaults"].update(epochs=EPOCHS, seeds=list(SEEDS), sweep={"learning_rate": [0.01, 0.03]})
    params["foundations"].update(samples=60, perceptron_epochs=20, gd_epochs=50, boundary_epochs=[0, 50],
                                 representation={"hidden": [16, 16], "epochs": EPOCHS, "sweep": {}},
                                 probe_epochs=[0, EPOCHS])
    vary = tiny_vary(params)
    for name, spec in params["studies"].items():
        spec["variants"] = {variant: spec["variants"][variant] for variant in vary[name]}
        spec["set"].update(epochs=EPOCHS, probe_size=PROBE)
        # a variant's or condition's own schedule wins over set: shrink those too
        for overrides in [spec["set"], *spec["conditions"].values(), *spec["variants"].values()]:
            _shrink(overrides)
    return params


def add_variant(params: dict, study: str, variant: str) -> None:
    """Add one of the repo's variants of `study` to tiny `params`, shrunk like the rest."""
    overrides = copy.deepcopy(PARAMS["studies"][study]["variants"][variant])
    _shrink(overrides)
    params["studies"][study]["variants"][variant] = overrides


def write_tiny_params(folder: Path, edit: Callable[[dict], None] | None = None) -> Path:
    """Write tiny params, changed by `edit` if given, to folder/params.yaml, validated by the config code."""
    params = tiny(PARAMS)
    if edit:
        edit(params)
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    config.load(path)
    return path
