"""params.yaml validation: every bad value is one line naming file, key, value and what is allowed."""
from __future__ import annotations

import copy
import sys

import pytest
import yaml

from stages import config
from stages.errors import EXIT_BAD_PARAMS, ParamsError
from tests.conftest import REPO, run

BASE = yaml.safe_load((REPO / "params.yaml").read_text())


def with_change(path: str, value) -> dict:
    """A copy of the repo's params with the key at dotted `path` set (or deleted when value is DELETE)."""
    raw = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = raw
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return raw


DELETE = object()


def test_repo_params_are_valid():
    params = config.load(REPO / "params.yaml")
    assert params.data.source == "offline"
    assert params.data.datasets == ["fashion_mnist", "breast_cancer", "california_housing"]


@pytest.mark.parametrize("path, value, expected", [
    ("data.source", "kagle", "params.yaml: data.source: 'kagle' is not one of: offline, kaggle "
                             "(did you mean 'kaggle'?)"),
    ("data.sourc", "kaggle", "params.yaml: data.sourc: unknown key; allowed: source, datasets"),
    ("data.datasets", ["mnist"], "data.datasets[0]: 'mnist' is not one of: fashion_mnist"),
    ("data.datasets", [], "data.datasets: []: must have at least 1 item"),
    ("data.datasets", ["breast_cancer", "breast_cancer"], "data.datasets: lists breast_cancer more than once"),
    ("data.val_fraction", 0.9, "data.val_fraction: 0.9: must be less than or equal to 0.5"),
    ("data.val_fraction", "big", "data.val_fraction: 'big': must be a valid number"),
    ("data.split_seed", -1, "data.split_seed: -1: must be greater than or equal to 0"),
    ("data.split_seed", 1.5, "data.split_seed: 1.5: must be a valid integer"),
    ("data.source", DELETE, None),  # has a default
    ("data.datasets", DELETE, "data.datasets: required key is missing"),
])
def test_bad_values_are_named(path, value, expected):
    raw = with_change(path, value)
    if expected is None:
        config.parse(raw)
        return
    with pytest.raises(ParamsError) as caught:
        config.parse(raw)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_unknown_section_is_rejected_with_suggestion():
    raw = copy.deepcopy(BASE)
    raw["dta"] = {}
    with pytest.raises(ParamsError, match=r"params.yaml: dta: unknown key; allowed: data.*did you mean 'data'"):
        config.parse(raw)


def test_scientific_notation_reads_as_float(tmp_path):
    text = (REPO / "params.yaml").read_text().replace("download_backoff_s: 2", "download_backoff_s: 5e-1")
    assert "5e-1" in text
    (tmp_path / "params.yaml").write_text(text)
    assert config.load(tmp_path / "params.yaml").data.download_backoff_s == 0.5


def test_broken_yaml_names_the_line(tmp_path):
    (tmp_path / "params.yaml").write_text("data:\n  source: [offline\n")
    with pytest.raises(ParamsError, match=r"params.yaml: line \d+, column \d+: not valid YAML"):
        config.load(tmp_path / "params.yaml")


def test_config_objects_are_frozen():
    params = config.load(REPO / "params.yaml")
    with pytest.raises(Exception):
        params.data.source = "kaggle"


def test_validate_stage_exits_2_with_one_line_and_writes_nothing(tmp_path):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(with_change("data.source", "kagle")))
    result = run([sys.executable, "-m", "stages.validate", "--stamp", "ok.txt"], tmp_path,
                 PYTHONPATH=str(REPO))
    assert result.returncode == EXIT_BAD_PARAMS
    assert result.stderr.strip() == ("error: params.yaml: data.source: 'kagle' is not one of: offline, "
                                     "kaggle (did you mean 'kaggle'?)")
    assert not (tmp_path / "ok.txt").exists()
