"""Study merging: defaults <- study set <- variant <- condition, each layer checked and named on error."""
from __future__ import annotations

from pydantic import ValidationError

from stages.catalog.datasets import DATASETS
from stages.catalog.losses import LOSSES
from stages.catalog.tasks import TASKS
from stages.common.errors import ParamsError
from stages.common.registry import not_one_of
from stages.config.messages import describe
from stages.config.schema import PARAMS_FILE, DataConfig, Params, StudyConfig, TrainConfig


def representation_config(params: Params, source: str = str(PARAMS_FILE)) -> TrainConfig:
    """The network the foundations study trains and probes: defaults <- foundations.representation."""
    spec, where = params.foundations, "foundations.representation"
    if "dataset" in spec.representation:
        raise ParamsError(f"{source}: {where}.dataset: the probed dataset is defaults.dataset; set it there")
    cfg = TrainConfig.model_validate(_merge(params.defaults.model_dump(), spec.representation, where, source))
    check_experiment(cfg, where, params.data, source)
    if DATASETS.get(cfg.dataset).task != "multiclass":
        raise ParamsError(f"{source}: {where}.dataset: {cfg.dataset!r} is not a multiclass dataset; the probes "
                          "and the calibration need one")
    for key, epochs, limit in (("probe_epochs", spec.probe_epochs, cfg.epochs),
                               ("boundary_epochs", spec.boundary_epochs, spec.gd_epochs)):
        late = [e for e in epochs if e > limit]
        if late:
            raise ParamsError(f"{source}: foundations.{key}: {late[0]} is after the last epoch; allowed: 0..{limit}")
    return cfg


def get_study(params: Params, study: str, source: str = str(PARAMS_FILE)) -> StudyConfig:
    """The study called `study`; a missing one is a ParamsError listing those there are."""
    if study not in params.studies:
        raise ParamsError(f"{source}: studies: {not_one_of(study, params.studies)}")
    return params.studies[study]


def study_configs(params: Params, study: str, variant: str,
                  source: str = str(PARAMS_FILE)) -> list[tuple[str, TrainConfig]]:
    """(condition, config) for one variant of a study: defaults <- study set <- variant <- condition.
    A study without conditions has one, named ''."""
    spec = get_study(params, study, source)
    where = f"studies.{study}"
    if spec.baseline not in spec.vary:
        raise ParamsError(f"{source}: {where}.baseline: {spec.baseline!r} is not one of the varied: "
                          f"{', '.join(spec.vary)}")
    if variant not in spec.vary:
        raise ParamsError(f"{source}: {where}.vary: has no variant {variant!r}; it has {', '.join(spec.vary)}")
    if spec.factor is not None and spec.factor not in TrainConfig.model_fields:
        raise ParamsError(f"{source}: {where}.factor: {not_one_of(spec.factor, TrainConfig.model_fields)}")
    for key, layer in (("set", spec.set), *((f"variants.{n}", o) for n, o in spec.variants.items()),
                       *((f"conditions.{n}", o) for n, o in spec.conditions.items())):
        if "dataset" in layer:
            raise ParamsError(f"{source}: {where}.{key}.dataset: set the study's data with {where}.dataset")
    merged = _merge(params.defaults.model_dump(), {"dataset": spec.dataset, **spec.set}, f"{where}.set", source)
    if variant in spec.variants:
        merged = _merge(merged, spec.variants[variant], f"{where}.variants.{variant}", source)
    elif spec.factor is None:
        raise ParamsError(f"{source}: {where}.variants: has no entry {variant!r} and the study names no factor")
    else:
        merged = _merge(merged, {spec.factor: variant}, f"{where}.vary[{spec.vary.index(variant)}]", source,
                        exact=True)
    configs = []
    for condition, overrides in (spec.conditions or {"": {}}).items():
        path = f"{where}.conditions.{condition}" if condition else where
        cfg = TrainConfig.model_validate(_merge(merged, overrides, path, source))
        check_experiment(cfg, path, params.data, source)
        configs.append((condition, cfg))
    return configs


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
    """Every variant a role or cure names is one the study could train: in `vary`, in `variants`, or a value of
    its factor (so a variant left out of an experiment's `vary` is fine, a misspelled one is not)."""
    spec = get_study(params, study, source)
    where = f"studies.{study}"
    named = [(f"{where}.roles.{role}[{i}]", name) for role, names in spec.roles.items() for i, name in enumerate(names)]
    for cure, failure in spec.cures.items():
        for case in (cure, failure):
            name, _, condition = case.partition("/")
            named.append((f"{where}.cures.{cure}", name))
            if condition and condition not in spec.conditions:
                raise ParamsError(f"{source}: {where}.cures.{cure}: "
                                  f"{not_one_of(condition, dict.fromkeys(spec.conditions))} (a condition)")
    for path, name in named:
        if not could_train(params, spec, name):
            raise ParamsError(f"{source}: {path}: {not_one_of(name, dict.fromkeys([*spec.vary, *spec.variants]))}")


def could_train(params: Params, spec: StudyConfig, name: str) -> bool:
    """True when `name` is a variant the study could train: in `vary`, in `variants`, or a value of its factor."""
    if name in spec.vary or name in spec.variants:
        return True
    if spec.factor is None:
        return False
    try:
        TrainConfig.model_validate({**params.defaults.model_dump(), spec.factor: name})
        return True
    except ValidationError:
        return False


def _merge(base: dict, overrides: dict, path: str, source: str, exact: bool = False) -> dict:
    """Overrides over a valid TrainConfig dict; a bad key or value is named under `path`."""
    merged = {**base, **overrides}
    try:
        TrainConfig.model_validate(merged)
    except ValidationError as error:
        first = error.errors()[0]
        described = describe(first, root=TrainConfig)
        if exact:  # the override is a single value written at `path` itself
            raise ParamsError(f"{source}: {path}: {described.split(': ', 1)[1]}") from None
        raise ParamsError(f"{source}: {path}.{described}") from None
    return merged


def check_experiment(cfg: TrainConfig, path: str, data: DataConfig, source: str) -> None:
    """The checks that span several keys: dataset downloaded, loss fits task, sweep values in range."""
    if cfg.dataset not in data.datasets:
        raise ParamsError(f"{source}: {path}.dataset: {cfg.dataset!r} is not in data.datasets "
                          f"({', '.join(data.datasets)}); add it there")
    task = DATASETS.get(cfg.dataset).task
    spec = LOSSES.get(cfg.loss)
    if task not in spec.tasks:
        fitting = [name for name in LOSSES.names if task in LOSSES.get(name).tasks]
        raise ParamsError(f"{source}: {path}.loss: {cfg.loss!r} does not fit {cfg.dataset} ({task}); "
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
