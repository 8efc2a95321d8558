"""params.yaml, loaded and validated once into frozen config objects; a bad value is one line naming its key."""
from __future__ import annotations

import re
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from stages.datasets import DATASETS
from stages.errors import ParamsError
from stages.losses import LOSSES
from stages.models import ACTIVATIONS, INITIALIZERS, REGULARIZERS
from stages.optimizers import OPTIMIZERS
from stages.registry import did_you_mean, not_one_of

PARAMS_FILE = Path("params.yaml")


def one_of(choices: Iterable[str]):
    """A validator that accepts only the given names."""
    choices = tuple(choices)

    def check(value: str) -> str:
        if value not in choices:
            raise ValueError(not_one_of(value, choices))
        return value

    return AfterValidator(check)


def unique(values: list) -> list:
    duplicates = sorted({str(v) for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"lists {', '.join(duplicates)} more than once; entries must be unique")
    return values


class Frozen(BaseModel):
    """Base of every config object: immutable, strictly typed, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


DatasetName = Annotated[str, one_of(DATASETS.names)]
Fraction = Annotated[float, Field(gt=0, lt=1)]


class DataConfig(Frozen):
    """Where the data comes from and how it is split."""

    source: Annotated[str, one_of(("offline", "kaggle"))] = "offline"
    datasets: Annotated[list[DatasetName], Field(min_length=1), AfterValidator(unique)]
    val_fraction: Annotated[float, Field(gt=0, le=0.5)] = 0.15
    test_fraction: Annotated[float, Field(gt=0, le=0.5)] = 0.15  # when the source ships no test file
    split_seed: Annotated[int, Field(ge=0)] = 0
    max_download_mb: Annotated[float, Field(gt=0)] = 2048  # cap on an archive's uncompressed size
    download_retries: Annotated[int, Field(ge=0, le=10)] = 3  # on 429 and 5xx, with backoff
    download_timeout_s: Annotated[float, Field(gt=0)] = 60  # per request; a stalled server fails
    download_backoff_s: Annotated[float, Field(ge=0)] = 2  # first retry's wait; doubles each retry


# Settings a variant may sweep inside one process: the engine holds them in variables, so every
# sweep point and seed reuses one traced graph.
SWEEPABLE = ("learning_rate", "l1", "l2", "dropout", "init_stddev")
PositiveFloat = Annotated[float, Field(gt=0)]
UnitInterval = Annotated[float, Field(ge=0, lt=1)]


class TrainConfig(Frozen):
    """One experiment: network, loss, optimizer, schedule and replicates (Keras names throughout)."""

    dataset: DatasetName
    train_fraction: Annotated[float, Field(gt=0, le=1)] = 1.0  # share of the training split used
    outlier_share: Annotated[float, Field(ge=0, lt=1)] = 0.0  # regression: training targets corrupted
    outlier_scale: PositiveFloat = 8.0  # how far those targets move up, in target standard deviations
    hidden: Annotated[list[Annotated[int, Field(ge=1, le=65536)]], Field(max_length=64)] = [128, 128]
    activation: Annotated[str, one_of(ACTIVATIONS.names)] = "relu"
    negative_slope: UnitInterval = 0.01  # leaky_relu only
    initializer: Annotated[str, one_of(INITIALIZERS.names)] = "he_normal"
    init_stddev: PositiveFloat = 0.05  # random_normal only
    regularizer: Annotated[str, one_of(REGULARIZERS.names)] = "none"
    l1: Annotated[float, Field(ge=0)] = 0.0
    l2: Annotated[float, Field(ge=0)] = 0.0
    dropout: UnitInterval = 0.0  # after every hidden layer
    loss: Annotated[str, one_of(LOSSES.names)] = "categorical_crossentropy"
    huber_delta: PositiveFloat = 1.0  # in standardized target units
    optimizer: Annotated[str, one_of(OPTIMIZERS.names)] = "adam"
    learning_rate: PositiveFloat = 0.001
    momentum: UnitInterval = 0.9  # momentum only
    nesterov: bool = False  # momentum only
    rho: Annotated[float, Field(gt=0, lt=1)] = 0.9  # rmsprop only
    beta_1: UnitInterval = 0.9  # adam only
    beta_2: UnitInterval = 0.999  # adam only
    epsilon: PositiveFloat = 1e-7  # adagrad, rmsprop, adam
    global_clipnorm: PositiveFloat | None = None  # clip the gradient's global norm; None: no clipping
    batch_size: Annotated[int, Field(ge=1)] = 32  # minibatch_sgd, momentum, adagrad, rmsprop, adam
    epochs: Annotated[int, Field(ge=1, le=100000)] = 30
    seeds: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1), AfterValidator(unique)] = [0, 1, 2]
    # Inner sweep: each listed setting's values are tried (all combinations); the best on validation wins.
    sweep: dict[Annotated[str, one_of(SWEEPABLE)],
                Annotated[list[float], Field(min_length=1), AfterValidator(unique)]] = {}
    target: float | None = None  # validation metric that counts as "reached" for epochs_to_target
    diagnostics: bool = True  # per-epoch gradient, dead/saturated-unit and noise measurements
    probe_size: Annotated[int, Field(ge=2)] = 256  # examples in the fixed diagnostic probe batch

    def points(self) -> list[dict[str, float]]:
        """Every combination of the sweep's values, in params order ([{}] when nothing is swept)."""
        combos: list[dict[str, float]] = [{}]
        for key, values in self.sweep.items():
            combos = [{**combo, key: value} for combo in combos for value in values]
        return combos

    def runs(self) -> list[tuple[dict[str, float], int]]:
        """Every (sweep point, seed) pair, point by point: the trainings of one condition."""
        return [(point, seed) for point in self.points() for seed in self.seeds]

    def at(self, point: dict[str, float]) -> TrainConfig:
        """This config with one sweep point's values set."""
        return self.model_copy(update=point)


Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]  # safe in paths and stage names
Overrides = dict[str, Any]  # TrainConfig keys -> values, checked when merged over the defaults


class StudyConfig(Frozen):
    """One controlled study: variants that change one factor of the defaults, under each condition."""

    # Every key is required, empty or null where unused: the train stages declare each as a DVC param.
    question: str  # what the study answers; heads its section of the report
    dataset: DatasetName
    factor: str | None  # the defaults key a plain variant sets to its own name
    vary: Annotated[list[Name], Field(min_length=1), AfterValidator(unique)]  # the DVC matrix axis
    baseline: Name  # the variant every other one is tested against
    set: Overrides  # study-wide changes to the defaults (may include sweep)
    variants: dict[Name, Overrides]  # variants that change more than the factor
    conditions: dict[Name, Overrides]  # every variant is trained under each (e.g. shallow, deep)


class ReportConfig(Frozen):
    """Thresholds that turn measurements into the report's verdicts."""

    significance: Annotated[float, Field(gt=0, lt=1)] = 0.05  # p-value below which a difference counts
    lr_tolerance: Annotated[float, Field(ge=0)] = 0.02  # metric distance from the best that is still "good"
    vanishing_ratio: Annotated[float, Field(gt=0, lt=1)] = 0.01  # first/last layer gradient norm below this
    exploding_ratio: Annotated[float, Field(gt=1)] = 100.0  # first/last layer gradient norm above this
    dead_fraction: Annotated[float, Field(gt=0, le=1)] = 0.3  # share of dead ReLU units that is a failure
    saturated_fraction: Annotated[float, Field(gt=0, le=1)] = 0.3  # share of saturated units that is a failure
    overfit_gap: Annotated[float, Field(ge=0)] = 0.05  # train minus validation metric that is overfitting


class FoundationsConfig(Frozen):
    """The opening study: a perceptron, one neuron and a small MLP on 2-D sets; what hidden layers learn."""

    question: str
    samples: Annotated[int, Field(ge=8, le=100000)] = 200  # points per synthetic set
    data_seed: Annotated[int, Field(ge=0)] = 0
    spread: PositiveFloat = 0.3  # standard deviation of the separable and XOR blobs
    moons_noise: Annotated[float, Field(ge=0, lt=1)] = 0.15
    perceptron_epochs: Annotated[int, Field(ge=1)] = 100  # the perceptron stops here if it never converges
    gd_epochs: Annotated[int, Field(ge=1)] = 2000  # full-batch gradient descent steps, neuron and MLP
    neuron_learning_rate: PositiveFloat = 1.0
    mlp_hidden: Annotated[int, Field(ge=1)] = 16
    mlp_activation: Annotated[str, one_of(ACTIVATIONS.names)] = "tanh"
    mlp_learning_rate: PositiveFloat = 0.5
    boundary_epochs: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)] = [0, 20, 200, 2000]
    representation: Overrides  # changes to the defaults for the network whose hidden layers are probed
    probe_epochs: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)] = [0, 1, 2, 5, 10, 20]
    calibration_bins: Annotated[int, Field(ge=2, le=100)] = 10


class Params(Frozen):
    """The whole params.yaml."""

    data: DataConfig
    defaults: TrainConfig
    foundations: FoundationsConfig
    report: ReportConfig = ReportConfig()
    studies: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], StudyConfig] = {}


# --- loading -------------------------------------------------------------------------------

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
        raise ParamsError(f"{source}: must be a mapping of sections (data, ...), got {_kind(raw)}")
    try:
        params = Params.model_validate(raw)
    except ValidationError as error:
        lines = [f"{source}: {_describe(e)}" for e in error.errors()]
        raise ParamsError("\n".join(lines)) from None
    check_experiment(params.defaults, "defaults", params.data, source)
    for name in params.studies:
        for variant in params.studies[name].vary:
            study_configs(params, name, variant, source)
    representation_config(params, source)
    return params


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


def _merge(base: dict, overrides: dict, path: str, source: str, exact: bool = False) -> dict:
    """Overrides over a valid TrainConfig dict; a bad key or value is named under `path`."""
    merged = {**base, **overrides}
    try:
        TrainConfig.model_validate(merged)
    except ValidationError as error:
        first = error.errors()[0]
        described = _describe(first, root=TrainConfig)
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
    if cfg.outlier_share > 0 and task != "regression":
        raise ParamsError(f"{source}: {path}.outlier_share: {cfg.outlier_share} needs a regression dataset; "
                          f"{cfg.dataset} is {task}")
    for key, values in cfg.sweep.items():
        for index, value in enumerate(values):
            try:
                TrainConfig.model_validate({**cfg.model_dump(), key: value})
            except ValidationError as error:
                message = _describe(error.errors()[0]).split(": ", 1)[1]
                raise ParamsError(f"{source}: {path}.sweep.{key}[{index}]: {message}") from None


def _describe(error: dict, root: type[BaseModel] | None = None) -> str:
    """Render one pydantic error as 'key.path: what is wrong and what is allowed'."""
    loc = error["loc"]
    path = key_path(loc)
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1], root or Params)
        return f"{path}: unknown key; allowed: {', '.join(allowed)}{did_you_mean(loc[-1], allowed)}"
    if kind == "missing":
        return f"{path}: required key is missing"
    message = error["msg"].removeprefix("Value error, ")
    if kind != "value_error":
        message = re.sub(r"^(Input|List) should|,? after validation.*$", lambda m: "must" if m[1] else "", message)
        message = f"{value!r}: {message}"
    return f"{path}: {message}"


def key_path(loc: Iterable) -> str:
    """('defaults', 'hidden', 2) -> 'defaults.hidden[2]'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not re.fullmatch(r"function-after\[.*\]|[a-z-]*\[.*\]", str(part)):  # pydantic's own steps
            path += f".{part}" if path else str(part)
    return path


def _allowed_keys(loc: Iterable, root: type[BaseModel]) -> list[str]:
    """The keys the model at `loc` accepts, found by walking the schema's annotations."""
    model: Any = root
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        fields = getattr(model, "model_fields", None)
        annotation = fields[part].annotation if fields and part in fields else _dict_value(model)
        model = _model_in(annotation)
    return list(model.model_fields) if model is not None else []


def _dict_value(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    return args[1] if typing.get_origin(annotation) is dict and len(args) == 2 else None


def _model_in(annotation: Any) -> Any:
    """The config model an annotation holds, directly, in a dict or in an Optional."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) is dict:
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__
