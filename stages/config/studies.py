"""Study merging: defaults <- study set <- variant <- condition, each layer checked and named on error."""
from __future__ import annotations

import difflib
from collections.abc import Iterable

from pydantic import ValidationError

from stages.catalog.datasets import DATASETS
from stages.catalog.losses import LOSSES
from stages.catalog.tasks import TASKS
from stages.common.errors import ParamsError
from stages.common.registry import not_one_of
from stages.config.messages import describe
from stages.config.schema import PARAMS_FILE, DataConfig, Params, StudyConfig, StudyReport, TrainConfig


def representation_config(params: Params, source: str = str(PARAMS_FILE)) -> TrainConfig:
    """The network the foundations study trains and probes: defaults <- foundations.representation."""
    spec, where = params.foundations, "foundations.representation"
    if "dataset" in spec.representation:
        raise ParamsError(f"{source}: {where}.dataset: the probed dataset is defaults.dataset; set it there")
    cfg = TrainConfig.model_validate(_merge(params.defaults.model_dump(), spec.representation, where, source))
    if task_of(cfg) != "multiclass":
        raise ParamsError(f"{source}: {where}.dataset: {cfg.dataset!r} is not a multiclass dataset; the probes "
                          "and the calibration need one")
    for key, epochs, limit in (("probe_epochs", spec.probe_epochs, cfg.epochs),
                               ("boundary_epochs", spec.boundary_epochs, spec.gd_epochs)):
        late = [e for e in epochs if e > limit]
        if late:
            raise ParamsError(f"{source}: foundations.{key}: {late[0]} is after the last epoch; allowed: 0..{limit}")
    return cfg


def task_of(cfg: TrainConfig) -> str:
    """The task a config trains: its dataset's, or binary where it names positive classes."""
    return "binary" if cfg.positive_classes else DATASETS.get(cfg.dataset).task


def get_study(params: Params, study: str, source: str = str(PARAMS_FILE)) -> StudyConfig:
    """The study called `study`; a missing one is a ParamsError listing those there are."""
    if study not in params.studies:
        raise ParamsError(f"{source}: studies: {not_one_of(study, params.studies)}")
    return params.studies[study]


def study_report(params: Params, study: str) -> StudyReport:
    """What the study's report compares: report.studies.<study>."""
    return params.report.studies[study]


def study_configs(params: Params, study: str, variant: str,
                  source: str = str(PARAMS_FILE)) -> list[tuple[str, TrainConfig]]:
    """(condition, config) for one variant of a study: defaults <- study set <- variant <- condition.
    A study without conditions has one, named ''. Reads only what the variant's train stage declares."""
    spec = get_study(params, study, source)
    where = f"studies.{study}"
    if variant not in spec.variants:
        raise ParamsError(f"{source}: {where}.variants: has no variant {variant!r}; "
                          f"it has {', '.join(spec.variants)}")
    merged = _merge(params.defaults.model_dump(), {"dataset": spec.dataset, **spec.set}, f"{where}.set", source)
    merged = _merge(merged, spec.variants[variant], f"{where}.variants.{variant}", source)
    return [(condition, TrainConfig.model_validate(_merge(merged, overrides, f"{where}.conditions.{condition}"
                                                          if condition else where, source)))
            for condition, overrides in (spec.conditions or {"": {}}).items()]


def check_study(params: Params, study: str, source: str = str(PARAMS_FILE)) -> None:
    """Every variant of the study merges into a valid experiment, and its report settings name what it trains."""
    spec = get_study(params, study, source)
    where = f"studies.{study}"
    for key, layer in (("set", spec.set), *((f"variants.{n}", o) for n, o in spec.variants.items()),
                       *((f"conditions.{n}", o) for n, o in spec.conditions.items())):
        if "dataset" in layer:
            raise ParamsError(f"{source}: {where}.{key}.dataset: set the study's data with {where}.dataset")
    for variant in spec.variants:
        for condition, cfg in study_configs(params, study, variant, source):
            path = f"{where}.conditions.{condition}" if condition else f"{where}.variants.{variant}"
            check_experiment(cfg, path, params.data, source)
    check_roles(params, study, source)


# Bytes per weight while training: float32 weights, their gradients and up to two optimizer slots (Adam's moments).
BYTES_PER_WEIGHT = 4 * 4


def check_fits_memory(cfg: TrainConfig, path: str, source: str) -> None:
    """Hidden layers whose weights alone (between hidden layers; the input width is not known before the data is)
    would not fit in this machine's memory are a params error, before anything trains."""
    import psutil

    weights = sum(a * b for a, b in zip(cfg.hidden, cfg.hidden[1:])) + sum(cfg.hidden)
    needed, available = weights * BYTES_PER_WEIGHT, psutil.virtual_memory().total
    if needed > available:
        raise ParamsError(f"{source}: {path}.hidden: {cfg.hidden} needs about {needed / 2**30:.0f} GiB for weights, "
                          f"gradients and optimizer state; this machine has {available / 2**30:.0f} GiB")


def with_changes(base: TrainConfig, **changes) -> TrainConfig:
    """`base` with some keys changed, validated as a whole (for tools and tests that start from the defaults)."""
    return TrainConfig.model_validate({**base.model_dump(), **changes})


def check_roles(params: Params, study: str, source: str = str(PARAMS_FILE)) -> None:
    """report.studies.<study> names variants and conditions of the study. The baseline must be trained; a role or
    cure may name one an experiment left out (`-S '~studies.optimizers.variants.sgd'`), but not a misspelling."""
    spec = get_study(params, study, source)
    where = f"report.studies.{study}"
    if study not in params.report.studies:
        raise ParamsError(f"{source}: report.studies: has no entry {study!r}; every study under studies: needs one "
                          "(its baseline, roles, cures and headline)")
    plan = params.report.studies[study]
    if plan.baseline not in spec.variants:
        raise ParamsError(f"{source}: {where}.baseline: {not_one_of(plan.baseline, spec.variants)} "
                          f"(the variants of studies.{study})")
    named = [(f"{where}.roles.{role}[{i}]", name) for role, names in plan.roles.items() for i, name in enumerate(names)]
    cases = [("cures", cure, case) for cure, failure in plan.cures.items() for case in (cure, failure)]
    for key, cure, case in cases + [("references", cure, reference) for cure, reference in plan.references.items()]:
        name, _, condition = case.partition("/")
        named.append((f"{where}.{key}.{cure}", name))
        check_condition(condition, spec, f"{source}: {where}.{key}.{cure}", "a condition")
    for path, name in named:
        check_name(name, spec.variants, f"{source}: {path}", "a variant")
    for cure in plan.references:
        if cure not in plan.cures:
            raise ParamsError(f"{source}: {where}.references.{cure}: not one of the study's cures: "
                              f"{', '.join(plan.cures) or 'none'}")


def check_condition(condition: str, spec: StudyConfig, where: str, kind: str) -> None:
    """A condition named after `variant/` is one of the study's: conditions are its design, never left out."""
    if condition and condition not in spec.conditions:
        raise ParamsError(f"{where}: {not_one_of(condition, spec.conditions)} ({kind})")


def check_name(name: str, known: Iterable[str], where: str, kind: str) -> None:
    """A name that is not among `known` but close to one of them is a misspelling: a ParamsError with the
    did-you-mean. A name far from all of them is one this experiment left out, and fine."""
    known = list(known)
    if name not in known and difflib.get_close_matches(name, known, n=1, cutoff=CLOSE):
        raise ParamsError(f"{where}: {not_one_of(name, known)} ({kind})")


# How alike a name must be to a known one to count as its misspelling (difflib's ratio): rmsprops/rmsprop is 0.93,
# while names of different variants stay below (mse/mae 0.67, normal_large/normal_large_clipped 0.75,
# dropout/l2_dropout 0.82; tests/test_config.py leaves out each variant in turn).
CLOSE = 0.85


def _merge(base: dict, overrides: dict, path: str, source: str) -> dict:
    """Overrides over a valid TrainConfig dict; a bad key or value is named under `path`."""
    merged = {**base, **overrides}
    try:
        TrainConfig.model_validate(merged)
    except ValidationError as error:
        raise ParamsError(f"{source}: {path}.{describe(error.errors()[0], root=TrainConfig)}") from None
    return merged


def check_experiment(cfg: TrainConfig, path: str, data: DataConfig, source: str) -> None:
    """The checks that span several keys: dataset downloaded, loss fits task, sweep values in range."""
    if cfg.dataset not in data.datasets:
        raise ParamsError(f"{source}: {path}.dataset: {cfg.dataset!r} is not in data.datasets "
                          f"({', '.join(data.datasets)}); add it there")
    if cfg.positive_classes and DATASETS.get(cfg.dataset).task != "multiclass":
        raise ParamsError(f"{source}: {path}.positive_classes: {cfg.positive_classes} needs a multiclass dataset; "
                          f"{cfg.dataset} is {DATASETS.get(cfg.dataset).task}")
    task = task_of(cfg)
    spec = LOSSES.get(cfg.loss)
    if task not in spec.tasks:
        fitting = [name for name in LOSSES.names if task in LOSSES.get(name).tasks]
        read = f"{cfg.dataset} ({task}{', by positive_classes' if cfg.positive_classes else ''})"
        raise ParamsError(f"{source}: {path}.loss: {cfg.loss!r} does not fit {read}; "
                          f"allowed: {', '.join(fitting)}")
    if cfg.outlier_share > 0 and TASKS.get(task).classes:
        raise ParamsError(f"{source}: {path}.outlier_share: {cfg.outlier_share} needs a regression dataset; "
                          f"{cfg.dataset} is {task}")
    check_fits_memory(cfg, path, source)
    if cfg.label_noise > 0 and not TASKS.get(task).classes:
        raise ParamsError(f"{source}: {path}.label_noise: {cfg.label_noise} needs a classification dataset; "
                          f"{cfg.dataset} is {task}")
    for key, values in cfg.sweep.items():
        for index, value in enumerate(values):
            try:
                TrainConfig.model_validate({**cfg.model_dump(), key: value})
            except ValidationError as error:
                message = describe(error.errors()[0]).split(": ", 1)[1]
                raise ParamsError(f"{source}: {path}.sweep.{key}[{index}]: {message}") from None
