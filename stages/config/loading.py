"""Reading params.yaml: YAML 1.2 floats, one-line syntax errors, then the schema and the cross-key checks."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from stages.common.errors import ParamsError
from stages.common.registry import not_one_of
from stages.config.messages import describe, kind_of
from stages.config.schema import FINDINGS, PARAMS_FILE, ConceptRow, Params
from stages.config.studies import (check_experiment, check_roles, could_train, representation_config,
                                   study_configs)


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads `1e-3` as a string; read it as a float, as YAML 1.2 (and DVC) do."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"""^[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[0-9][0-9_]*[eE][-+]?[0-9]+|\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."),
)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a syntax error becomes one line naming the file and position."""
    try:
        return yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except FileNotFoundError:
        raise ParamsError(f"{path}: file not found (run from the repository root)") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ParamsError(f"{path}:{where}: not valid YAML: {problem}") from None


def check_concept(params: Params, row: ConceptRow, where: str) -> None:
    """A concept row names a study and something it can show: a finding, a cure, or a variant it could train."""
    if row.study != "foundations" and row.study not in params.studies:
        raise ParamsError(f"{where}.study: {not_one_of(row.study, ['foundations', *params.studies])}")
    if row.shows.startswith("finding:"):
        if row.shows.removeprefix("finding:") not in FINDINGS:
            raise ParamsError(f"{where}.shows: {not_one_of(row.shows, [f'finding:{f}' for f in FINDINGS])}")
        return
    if row.study == "foundations":
        raise ParamsError(f"{where}.shows: {row.shows!r}: foundations shows findings only; allowed: "
                          + ", ".join(f"finding:{f}" for f in FINDINGS))
    spec = params.studies[row.study]
    if row.shows in spec.cures:
        return
    variant, _, condition = row.shows.partition("/")
    if not could_train(params, spec, variant) or (condition and condition not in spec.conditions):
        raise ParamsError(f"{where}.shows: {row.shows!r} is neither a cure of studies.{row.study} "
                          f"({', '.join(spec.cures) or 'none'}) nor one of its variants[/conditions]")


def load(path: Path | str = PARAMS_FILE) -> Params:
    """Load and validate params.yaml; raise ParamsError with one line per problem."""
    path = Path(path)
    return parse(read_yaml(path), source=str(path))


def parse(raw: Any, source: str = str(PARAMS_FILE)) -> Params:
    """Validate an already-parsed params mapping."""
    if not isinstance(raw, dict):
        raise ParamsError(f"{source}: must be a mapping of sections (data, ...), got {kind_of(raw)}")
    try:
        params = Params.model_validate(raw)
    except ValidationError as error:
        lines = [f"{source}: {describe(e)}" for e in error.errors()]
        raise ParamsError("\n".join(lines)) from None
    check_experiment(params.defaults, "defaults", params.data, source)
    for name in params.studies:
        for variant in params.studies[name].vary:
            study_configs(params, name, variant, source)
        check_roles(params, name, source)
    for index, row in enumerate(params.report.concepts):
        check_concept(params, row, f"{source}: report.concepts[{index}]")
    representation_config(params, source)
    return params
