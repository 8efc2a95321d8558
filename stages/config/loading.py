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
from stages.config.recording import watch
from stages.config.schema import ENDPOINTS, FINDINGS, PARAMS_FILE, ConceptRow, Params
from stages.config.studies import (check_condition, check_experiment, check_name, check_study,
                                   representation_config, study_configs)


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads `1e-3` as a string; read it as a float, as YAML 1.2 (and DVC) do."""


def _unique_keys(loader: _Loader, node: yaml.MappingNode) -> dict:
    """A mapping whose keys are unique: YAML would silently keep the last of two `adam:` variants."""
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", mark)
        seen.add(key)
    return loader.construct_mapping(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_keys)
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
        check_endpoint(row, ["finding"], where, "a finding carries its own check")
        if row.expect is not None:
            raise ParamsError(f"{where}.expect: {row.expect!r}: a finding carries its own check; allowed: null")
        return
    if row.study == "foundations":
        raise ParamsError(f"{where}.shows: {row.shows!r}: foundations shows findings only; allowed: "
                          + ", ".join(f"finding:{f}" for f in FINDINGS))
    plan, spec = params.report.studies[row.study], params.studies[row.study]
    if row.shows in plan.cures:
        check_endpoint(row, [e for e in ENDPOINTS if e not in ("train_loss_auc", "finding")], where,
                       "a cure is judged on the test metric or on one of its failure's signs")
        return
    variant, _, condition = row.shows.partition("/")
    check_name(variant, spec.variants, f"{where}.shows", f"a variant of studies.{row.study}, or one of its cures: "
               f"{', '.join(plan.cures) or 'none'}")
    check_condition(condition, spec, f"{where}.shows", f"a condition of studies.{row.study}")
    if spec.conditions and not condition:
        raise ParamsError(f"{where}.shows: {row.shows!r} names no condition; studies.{row.study} trains each "
                          f"variant under {', '.join(spec.conditions)}: write {variant}/<condition>")
    if variant in spec.variants:
        compared = {cfg.select_on for _, cfg in study_configs(params, row.study, variant)}
        on = "train_loss_auc" if compared == {"train_loss_auc"} else "test_metric"
        check_endpoint(row, [on], where, f"studies.{row.study} compares its variants on {on} "
                                         f"(select_on: {', '.join(sorted(compared))})")


def check_endpoint(row: ConceptRow, allowed: list[str], where: str, why: str) -> None:
    """A row's declared endpoint is one its comparison has, and an expected equivalence one with a margin."""
    if row.endpoint not in allowed:
        raise ParamsError(f"{where}.endpoint: {row.endpoint!r} does not fit `shows: {row.shows}`; allowed: "
                          f"{', '.join(allowed)} ({why})")
    if row.expect == "equivalent" and row.endpoint == "divergence":
        raise ParamsError(f"{where}.expect: 'equivalent' has no margin on divergence (an exact test of flips); "
                          "allowed: better, worse, null")


def load(path: Path | str = PARAMS_FILE) -> Params:
    """Load and validate params.yaml; raise ParamsError with one line per problem. Under STAGES_PARAMS_LOG the
    keys read from the result are recorded (stages/config/recording.py)."""
    path = Path(path)
    return watch(parse(read_yaml(path), source=str(path)))


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
    extra = [name for name in params.report.studies if name not in params.studies]
    if extra:
        raise ParamsError(f"{source}: report.studies.{extra[0]}: {not_one_of(extra[0], params.studies)} "
                          "(a study under studies:)")
    for name in params.studies:
        check_study(params, name, source)
    for index, row in enumerate(params.report.concepts):
        check_concept(params, row, f"{source}: report.concepts[{index}]")
    check_experiment(representation_config(params, source), "foundations.representation", params.data, source)
    return params
