"""Reading params.yaml: YAML 1.2 floats, one-line syntax errors, then the schema and the cross-key checks."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from stages.common.errors import ParamsError
from stages.config.messages import describe, kind_of
from stages.config.schema import PARAMS_FILE, Params
from stages.config.studies import check_experiment, check_roles, representation_config, study_configs


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
    representation_config(params, source)
    return params
