"""The shape of params.yaml: frozen, strictly typed config objects (Keras names throughout)."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from stages.catalog.datasets import DATASETS
from stages.catalog.layers import ACTIVATIONS, INITIALIZERS, REGULARIZERS
from stages.catalog.losses import LOSSES
from stages.catalog.optimizers import OPTIMIZERS
from stages.common.registry import not_one_of

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
    """Base of every config object: immutable, strictly typed, unknown keys rejected, every key required
    (params.yaml is the one place that holds a value; code holds none)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


DatasetName = Annotated[str, one_of(DATASETS.names)]
Fraction = Annotated[float, Field(gt=0, lt=1)]


class DataConfig(Frozen):
    """Where the data comes from and how it is split."""

    source: Annotated[str, one_of(("offline", "kaggle"))]
    datasets: Annotated[list[DatasetName], Field(min_length=1), AfterValidator(unique)]
    val_fraction: Annotated[float, Field(gt=0, le=0.5)]
    test_fraction: Annotated[float, Field(gt=0, le=0.5)]  # when the source ships no test file
    split_seed: Annotated[int, Field(ge=0)]
    max_download_mb: Annotated[float, Field(gt=0)]  # cap on an archive's uncompressed size
    download_retries: Annotated[int, Field(ge=0, le=10)]  # on 429 and 5xx, with backoff
    download_timeout_s: Annotated[float, Field(gt=0)]  # per request; a stalled server fails
    download_backoff_s: Annotated[float, Field(ge=0)]  # first retry's wait; doubles each retry


# Settings a variant may sweep inside one process: the engine holds them in variables, so every
# sweep point and seed reuses one traced graph.
SWEEPABLE = ("learning_rate", "l1", "l2", "dropout", "init_stddev")
PositiveFloat = Annotated[float, Field(gt=0)]
UnitInterval = Annotated[float, Field(ge=0, lt=1)]


class TrainConfig(Frozen):
    """One experiment: network, loss, optimizer, schedule and replicates (Keras names throughout)."""

    dataset: DatasetName
    # The study's data budget: at most this many training rows, a fixed subset (stratified by class) drawn with the
    # split seed, so the same rows on every machine, taken before train_fraction; null: the whole training split
    train_rows: Annotated[int, Field(ge=2)] | None
    # The per-epoch validation curve's budget: measured on at most this many validation rows (a fixed stratified subset
    # drawn with the split seed); the final validation and test scores always use the whole split. null: every row
    val_rows: Annotated[int, Field(ge=2)] | None
    train_fraction: Annotated[float, Field(gt=0, le=1)]  # share of the training split (or its budget) used
    outlier_share: Annotated[float, Field(ge=0, lt=1)]  # regression: training targets corrupted
    outlier_scale: PositiveFloat  # how far those targets move up, in target standard deviations
    label_noise: UnitInterval  # classification: share of training labels replaced by another class
    # A multiclass dataset read as a binary task, these classes positive and the rest negative (every split, before
    # any label noise); null: the dataset's own task
    positive_classes: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1), AfterValidator(unique)] | None
    hidden: Annotated[list[Annotated[int, Field(ge=1, le=65536)]], Field(max_length=64)]
    activation: Annotated[str, one_of(ACTIVATIONS.names)]
    negative_slope: UnitInterval  # leaky_relu only
    initializer: Annotated[str, one_of(INITIALIZERS.names)]
    init_stddev: PositiveFloat  # random_normal only
    regularizer: Annotated[str, one_of(REGULARIZERS.names)]
    l1: Annotated[float, Field(ge=0)]
    l2: Annotated[float, Field(ge=0)]
    dropout: UnitInterval  # after every hidden layer
    loss: Annotated[str, one_of(LOSSES.names)]
    huber_delta: PositiveFloat  # in standardized target units
    optimizer: Annotated[str, one_of(OPTIMIZERS.names)]
    learning_rate: PositiveFloat
    momentum: UnitInterval  # momentum only
    nesterov: bool  # momentum only
    rho: Annotated[float, Field(gt=0, lt=1)]  # rmsprop only
    beta_1: UnitInterval  # adam only
    beta_2: UnitInterval  # adam only
    epsilon: PositiveFloat  # adagrad, rmsprop, adam
    global_clipnorm: PositiveFloat | None  # clip the gradient's global norm; None: no clipping
    batch_size: Annotated[int, Field(ge=1)]  # minibatch_sgd, momentum, adagrad, rmsprop, adam
    epochs: Annotated[int, Field(ge=1, le=100000)]
    seeds: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1), AfterValidator(unique)]
    # Inner sweep: each listed setting's values are tried (all combinations); the best on validation wins.
    sweep: dict[Annotated[str, one_of(SWEEPABLE)],
                Annotated[list[float], Field(min_length=1), AfterValidator(unique)]]
    # What picks the sweep point and what the study compares variants on: the final validation metric (the held-out
    # test metric is compared), or the training loss averaged over the epochs (an optimizer's speed, as Kingma & Ba)
    select_on: Annotated[str, one_of(("val_metric", "train_loss_auc"))]
    target: float | None  # validation metric that counts as "reached" for epochs_to_target
    diagnostics: bool  # per-epoch gradient, dead/saturated-unit and noise measurements
    probe_size: Annotated[int, Field(ge=2)]  # examples in the fixed diagnostic probe batch
    noise_batches: Annotated[int, Field(ge=2, le=4096)]  # mini-batches drawn from the probe set to measure noise

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
Case = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")]  # variant[/condition]
Overrides = dict[str, Any]  # TrainConfig keys -> values, checked when merged over the defaults


# Summary quantities a study may add to its headline metrics.
STUDY_QUANTITIES = ("train_loss", "train_loss_auc", "train_loss_epoch_1", "best_learning_rate", "lr_good_range_decades",
                    "noise_ratio_init", "noise_scale", "top_saturation_peak", "top_saturation_recovered",
                    "grad_norm_first_over_last_init", "born_dead_runs", "collapsed_runs", "diverged_runs",
                    "dead_fraction", "saturated_fraction", "weight_sparsity", "train_metric", "test_rmse",
                    "epochs_to_target")


class StudyConfig(Frozen):
    """One controlled study: its variants, each a set of changes to the defaults, trained under each condition."""

    # Every key is required, empty where unused. A train stage declares its own variant's key and the study-wide
    # ones as DVC params, so editing one variant retrains that variant alone.
    question: str  # what the study answers; heads its section of the report
    dataset: DatasetName
    set: Overrides  # study-wide changes to the defaults (may include sweep)
    conditions: dict[Name, Overrides]  # every variant is trained under each (e.g. shallow, deep)
    variants: Annotated[dict[Name, Overrides], Field(min_length=1)]  # the DVC matrix axis, in report order


class StudyReport(Frozen):
    """What a study's report compares (report.studies.<study>): so that no verdict names a variant in code."""

    baseline: Name  # the variant every other one is tested against
    roles: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], Annotated[list[Name], Field(min_length=1)]]
    # a variant that should repair a failure -> the variant that shows it; `variant/condition` pins a condition
    cures: dict[Case, Case]
    # a cure -> a healthy net of the same shape (well initialized, clean data) it should reach: the concept table
    # says whether the cure restores learning, not only whether the failure's sign moved
    references: dict[Case, Case]
    # the study's own key quantities in its headline metrics (reports/<study>/headline.json), beside the ones every
    # study has (stages/analysis/evaluation.py HEADLINE)
    headline: list[Annotated[str, one_of(STUDY_QUANTITIES)]]


# Findings a concept row may show that are not a comparison of two variants (stages/reporting/concepts.py).
FINDINGS = ("perceptron", "xor", "representations", "backprop", "noise_slope", "lr_sensitivity", "sparsity")


# What a concept row is judged on, declared before any run: the test metric, the training loss averaged over the
# epochs, or one of a failure's own signs (the share of runs that diverged, the top hidden layer's saturated share,
# the train-minus-test gap); `finding` for a `finding:` row, which carries its own check.
ENDPOINTS = ("test_metric", "train_loss_auc", "divergence", "saturation", "overfitting", "finding")
EXPECTATIONS = ("better", "worse", "equivalent")  # what a paper claims of a row's comparison


class ConceptRow(Frozen):
    """One row of the report's concept table."""

    concept: str
    paper: str
    study: Name  # a study under `studies`, or `foundations`
    # What the row shows: a key of the study's `cures` (the cure against its failure), a `variant[/condition]`
    # (against the study's baseline), or `finding:<name>` for one of FINDINGS
    shows: str
    endpoint: Annotated[str, one_of(ENDPOINTS)]  # its primary test: the verdict is on this alone
    # What the paper claims on that endpoint, declared with it: the cure or variant does `better` or `worse` than
    # what it is compared with (a significant opposite reads "disagrees"), or is `equivalent` within
    # report.equivalence_margin (its test is then TOST); null: no claim (a finding, or a difference either way)
    expect: Annotated[str, one_of(EXPECTATIONS)] | None


class ReportConfig(Frozen):
    """Thresholds that turn measurements into the report's verdicts."""

    significance: Annotated[float, Field(gt=0, lt=1)]  # adjusted p-value below which a test counts
    # Half-width of the band inside which two variants count as equivalent, per metric (TOST on paired seeds).
    equivalence_margin: dict[Annotated[str, one_of(("accuracy", "mae", "train_loss_auc", "saturation"))], PositiveFloat]
    lr_tolerance: Annotated[float, Field(ge=0)]  # metric distance from the best that is still "good"
    vanishing_ratio: Annotated[float, Field(gt=0, lt=1)]  # first/last layer gradient norm below this
    exploding_ratio: Annotated[float, Field(gt=1)]  # first/last layer gradient norm above this
    dead_fraction: Annotated[float, Field(gt=0, le=1)]  # share of dead ReLU units that is a failure
    saturated_fraction: Annotated[float, Field(gt=0, le=1)]  # share of saturated units that is a failure
    overfit_gap: Annotated[float, Field(ge=0)]  # train minus validation metric that is overfitting
    backprop_tolerance: PositiveFloat  # largest gap between the engine's and the NumPy reference's gradients
    studies: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], StudyReport]  # one per study
    concepts: list[ConceptRow]  # the concept table at the top of the report, in order


class FoundationsConfig(Frozen):
    """The opening study: a perceptron, one neuron and a small MLP on 2-D sets; what hidden layers learn."""

    question: str
    samples: Annotated[int, Field(ge=8, le=100000)]  # points per synthetic set
    data_seed: Annotated[int, Field(ge=0)]
    spread: PositiveFloat  # standard deviation of the separable and XOR blobs
    moons_noise: Annotated[float, Field(ge=0, lt=1)]
    perceptron_epochs: Annotated[int, Field(ge=1)]  # the perceptron stops here if it never converges
    gd_epochs: Annotated[int, Field(ge=1)]  # full-batch gradient descent steps, neuron and MLP
    neuron_learning_rate: PositiveFloat
    mlp_hidden: Annotated[int, Field(ge=1)]
    mlp_activation: Annotated[str, one_of(ACTIVATIONS.names)]
    mlp_learning_rate: PositiveFloat
    boundary_epochs: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)]
    representation: Overrides  # changes to the defaults for the network whose hidden layers are probed
    probe_epochs: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)]
    calibration_bins: Annotated[int, Field(ge=2, le=100)]


class Params(Frozen):
    """The whole params.yaml."""

    data: DataConfig
    defaults: TrainConfig
    foundations: FoundationsConfig
    report: ReportConfig
    studies: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], StudyConfig]
