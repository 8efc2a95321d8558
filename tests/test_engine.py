"""The training engine: every task trains, divergence is a result, diagnostics respond as they should."""
from __future__ import annotations

import numpy as np
import pytest

from tests.configs import train_config
from stages.common.errors import ParamsError, UserError
from stages.ingest.arrays import load_arrays

pytest.importorskip("tensorflow")
from stages.catalog.tasks import head_for  # noqa: E402
from stages.nn import diagnostics, engine, history, perturbation  # noqa: E402

TASKS = {"fashion_mnist": "categorical_crossentropy", "breast_cancer": "binary_crossentropy",
         "california_housing": "mse"}


def make(processed, dataset="fashion_mnist", xla=None, **changes) -> engine.Engine:
    settings = dict(dataset=dataset, loss=TASKS[dataset], hidden=[16, 16], epochs=2, seeds=[0], probe_size=64)
    cfg = train_config(**{**settings, **changes})
    return engine.new_engine(cfg, load_arrays(processed / dataset, cfg), xla=xla)


@pytest.mark.parametrize("dataset", TASKS)
def test_two_epochs_train_on_every_task(processed, dataset):
    trainer = make(processed, dataset, learning_rate=0.01)
    run = trainer.run({}, seed=0)
    assert [row["epoch"] for row in run.history] == [0, 1, 2]
    assert run.history[-1]["step"] == 2 * trainer.n_batches
    first, last = run.history[0], run.history[-1]
    assert last["val_loss"] < first["val_loss"]  # it learned something
    assert not run.final["diverged"] and run.final["test_metric"] is not None
    assert len(last["grad_norm"]) == 3 and len(last["preact_grad_norm"]) == 2
    assert last["noise_scale"] > 0 and 0 < last["noise_ratio"]
    if dataset == "california_housing":
        assert last["val_rmse"] >= last["val_metric"]  # RMSE >= MAE always


def test_huge_learning_rate_diverges_and_is_recorded(processed):
    trainer = make(processed, "california_housing", optimizer="minibatch_sgd", learning_rate=1e6, epochs=5)
    run = trainer.run({}, seed=0)
    assert run.final["diverged"] and run.final["diverged_epoch"] == run.history[-1]["epoch"] <= 5
    assert run.final["val_metric"] is None and run.final["test_metric"] is None
    assert run.history[0]["val_loss"] is not None  # the healthy start is kept


def test_seed_and_settings_reset_between_runs(processed):
    trainer = make(processed, learning_rate=0.01)
    a = trainer.run({"learning_rate": 0.003}, seed=1)
    trainer.run({"learning_rate": 0.05}, seed=2)
    again = trainer.run({"learning_rate": 0.003}, seed=1)
    assert a.history == again.history and a.final == again.final
    other = trainer.run({"learning_rate": 0.003}, seed=2)
    assert other.history != a.history


def test_optimizer_batch_rules(processed):
    assert make(processed, optimizer="batch_gd").n_batches == 1
    sgd = make(processed, optimizer="sgd")
    assert sgd.step.batch_size == 1 and sgd.n_batches == sgd.n_train
    assert make(processed, optimizer="adam", batch_size=100).step.batch_size == 100


def test_all_negative_bias_makes_every_relu_dead(processed):
    trainer = make(processed, activation="relu")
    trainer.reset({}, 0)
    trainer.step.dense[0].bias.assign(np.full(16, -100.0, np.float32))
    measured = trainer._measure()
    assert measured["dead_fraction"][0] == 1.0
    assert measured["dead_fraction"][1] == 1.0  # nothing reaches the next layer either


def test_zero_weights_are_symmetric_and_dead_units_are_not(processed):
    zeros = make(processed, activation="relu", initializer="zeros")
    zeros.reset({}, 0)
    assert zeros._measure()["symmetric"].tolist() == [1.0, 1.0]  # every unit a copy: symmetric, whatever else
    dead = make(processed, activation="relu")
    dead.reset({}, 0)
    dead.step.dense[0].bias.assign(np.full(16, -100.0, np.float32))
    assert dead._measure()["symmetric"][0] == 0.0  # dead, but its units still differ


def test_non_finite_activations_are_neither_dead_nor_saturated():
    import tensorflow as tf

    broken = tf.constant([[np.nan, 1.0], [0.5, -1.0]])
    assert np.isnan(diagnostics.dead_fraction(broken).numpy())
    assert np.isnan(diagnostics.saturated_fraction(broken, "tanh").numpy())
    assert diagnostics.dead_fraction(tf.constant([[0.0, 1.0], [0.0, 2.0]])).numpy() == 0.5


def test_healthy_relu_layer_is_alive(processed):
    trainer = make(processed, activation="relu")
    trainer.reset({}, 0)
    assert trainer._measure()["dead_fraction"][0] < 0.2


def test_huge_inputs_saturate_sigmoid_units(processed):
    trainer = make(processed, activation="sigmoid", initializer="glorot_uniform")
    trainer.reset({}, 0)
    assert trainer._measure()["saturated_fraction"][0] < 0.2
    trainer.step.dense[0].kernel.assign(trainer.step.dense[0].kernel * 1000.0)
    assert trainer._measure()["saturated_fraction"][0] > 0.95


def test_penalty_equals_keras_regularizer_losses(processed):
    trainer = make(processed, regularizer="l1_l2", l1=0.001, l2=0.01)
    trainer.reset({}, 0)
    keras_total = float(sum(trainer.model.losses))
    assert float(trainer.step._penalty()) == pytest.approx(keras_total, rel=1e-5)
    trainer.reset({"l2": 0.02}, 0)  # a swept strength reaches the same graph through its variable
    assert float(trainer.step._penalty()) > keras_total


def test_engine_gradients_match_the_numpy_reference(processed):
    from stages.basics.probing import backprop_check

    for dataset, activation in (("breast_cancer", "tanh"), ("fashion_mnist", "relu"), ("california_housing", "sigmoid")):
        trainer = make(processed, dataset, activation=activation, hidden=[8])
        trainer.reset({}, 0)
        assert backprop_check(trainer, trainer.step.cfg) < 1e-4, dataset  # float32 engine vs float64 chain rule
        trainer.step.dense[0].kernel.assign(trainer.step.dense[0].kernel * 3.0)  # a different point: still equal
        assert backprop_check(trainer, trainer.step.cfg) < 1e-4, dataset


def test_gradient_noise_recovers_the_per_example_covariance():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    population, size = 200, 10
    per_example = rng.normal(loc=0.3, size=(population, 5))
    full = per_example.mean(axis=0)
    batches = [per_example[rng.permutation(population)[:size]].mean(axis=0) for _ in range(4000)]
    spread = np.mean([((batch - full) ** 2).sum() for batch in batches])
    ratio, scale = diagnostics.gradient_noise(tf.constant((full ** 2).sum()), tf.constant(spread), size, population)
    trace_sigma = ((per_example - full) ** 2).sum(axis=1).mean()
    assert float(scale) == pytest.approx(trace_sigma / (full ** 2).sum(), rel=0.05)
    expected_spread = trace_sigma / size * (population - size) / (population - 1)
    assert float(ratio) == pytest.approx(np.sqrt(expected_spread / (full ** 2).sum()), rel=0.05)


def test_batch_larger_than_training_split_is_a_params_error(processed):
    from stages.nn.training import check_fits_data

    cfg = train_config(dataset="california_housing", loss="mse", batch_size=100000)
    with pytest.raises(ParamsError, match=r"params.yaml: studies.x \(variant y\): batch_size: 100000 is larger "
                                          r"than the 308 training rows of california_housing; allowed: 1\.\.308"):
        check_fits_data(cfg, "studies.x (variant y)", 308)


@pytest.mark.parametrize("dataset", TASKS)
def test_xla_compiled_steps_train_like_the_plain_graph(processed, dataset):
    settings = dict(learning_rate=0.01, regularizer="l2", batch_size=50)  # 50: a padded last batch
    runs = [make(processed, dataset, xla=xla, **settings).run({}, seed=0) for xla in (True, False)]
    assert runs[0].history[-1]["step"] == runs[1].history[-1]["step"]
    for key in ("train_loss", "val_loss", "val_metric", "train_metric"):
        assert runs[0].history[-1][key] == pytest.approx(runs[1].history[-1][key], rel=1e-3, abs=1e-4)
    assert runs[0].history[-1]["val_loss"] < runs[0].history[0]["val_loss"]


def test_dropout_trains_under_xla(processed):
    run = make(processed, xla=True, learning_rate=0.01, dropout=0.3).run({}, seed=0)
    assert run.history[-1]["val_loss"] < run.history[0]["val_loss"] and not run.final["diverged"]


def test_xla_is_chosen_for_long_jobs_only(processed):
    assert not make(processed).xla  # 2 epochs
    assert make(processed, optimizer="sgd", epochs=20).xla  # batch size 1: ~1,000 steps an epoch



def test_diagnostic_stride_caps_the_measured_steps():
    from stages.nn.step import DIAGNOSTIC_STEPS, diagnostic_stride, measured_steps

    for steps in (1, 45, DIAGNOSTIC_STEPS):  # every step of the offline default's epochs is measured
        assert diagnostic_stride(steps) == 1 and measured_steps(steps) == steps
    assert (diagnostic_stride(1437), measured_steps(1437)) == (6, 240)  # batch-1 SGD on the offline digits
    assert (diagnostic_stride(51_000), measured_steps(51_000)) == (200, 255)  # batch 1 at Kaggle size
    assert all(measured_steps(n) <= DIAGNOSTIC_STEPS for n in range(1, 3000))


@pytest.mark.parametrize("xla", [False, True])
def test_measuring_every_nth_step_leaves_the_training_unchanged(processed, monkeypatch, xla):
    """The measured steps run the same update as the others: loss, metrics and weights are bit-identical; the
    epoch's gradient norm is then a mean over every n-th step, close to the mean over all of them."""
    from stages.nn import step

    settings = dict(learning_rate=0.01, batch_size=50, epochs=3)  # ~26 steps an epoch, the last one padded
    every = make(processed, xla=xla, **settings).run({}, seed=0)
    monkeypatch.setattr(step, "DIAGNOSTIC_STEPS", 4)
    strided_engine = make(processed, xla=xla, **settings)
    assert strided_engine.step.diagnostic_stride == -(-strided_engine.n_batches // 4) > 1
    strided = strided_engine.run({}, seed=0)
    for key in ("train_loss", "train_metric", "val_loss", "val_metric", "noise_scale"):
        assert [row[key] for row in strided.history] == [row[key] for row in every.history], key
    assert all(np.array_equal(a, b) for a, b in zip(strided.weights, every.weights))
    for mine, full in zip(strided.history[1:], every.history[1:]):
        assert mine["grad_norm"] != full["grad_norm"]  # measured on 4 of the epoch's steps
        assert np.allclose(mine["grad_norm"], full["grad_norm"], rtol=0.5)
        assert np.all(np.array(mine["update_ratio"]) > 0)


def test_float_perturbation_moves_each_initial_weight_by_one_unit_in_the_last_place():
    kernel = np.array([[0.5, -0.25], [0.0, 3e-3]], dtype=np.float32)
    nudged = perturbation.initial_weights(kernel, "init_ulp")
    assert nudged[1, 0] == 0.0  # zeros stay zeros: a symmetric start stays symmetric
    moved = kernel != 0
    assert np.all(nudged[moved] != kernel[moved])
    assert np.all(np.abs(nudged - kernel)[moved] <= np.spacing(np.abs(kernel[moved])))
    assert perturbation.initial_weights(kernel, "") is kernel


def test_unknown_float_perturbation_is_one_line_naming_the_variable(monkeypatch):
    monkeypatch.setenv(perturbation.ENV, "bits")
    with pytest.raises(UserError, match=r"NNF_FLOAT_PERTURBATION: 'bits' is not one of: init_ulp"):
        perturbation.kind()
    monkeypatch.delenv(perturbation.ENV)
    assert perturbation.kind() == ""


def test_float_perturbation_changes_the_run_but_not_its_determinism(processed, monkeypatch):
    plain = make(processed, learning_rate=0.01).run({}, seed=0)
    monkeypatch.setenv(perturbation.ENV, "init_ulp")
    trainer = make(processed, learning_rate=0.01)
    nudged, again = trainer.run({}, seed=0), trainer.run({}, seed=0)
    assert nudged.history == again.history and all(np.array_equal(a, b) for a, b in zip(nudged.weights, again.weights))
    # two epochs grow the last-bit change by less than the history's rounding: the trained weights show it
    assert not all(np.array_equal(a, b) for a, b in zip(nudged.weights, plain.weights))


def test_the_weight_cap_measures_fewer_steps_of_wide_nets_only():
    from stages.nn.step import DIAGNOSTIC_WEIGHTS, diagnostic_stride, measured_steps

    assert diagnostic_stride(131, 58_624) == 1  # the offline deep nets: every step, as before the cap
    assert (diagnostic_stride(150, 150_784), measured_steps(150, 150_784)) == (3, 50)  # 784 pixels in, at Kaggle size
    assert measured_steps(1, 10 ** 9) == 1  # the cap never measures less than one step
    for steps in (1, 47, 150, 1500, 51_000):
        for weights in (1_000, 54_912, 150_784, 334_336):
            measured = measured_steps(steps, weights)
            assert measured <= measured_steps(steps) and (measured == 1 or measured * weights <= DIAGNOSTIC_WEIGHTS)


def test_the_weight_cap_leaves_every_offline_study_measured_as_before(processed):
    """The default params on the offline stand-ins: the cap changes no stride, so their runs stay byte-identical."""
    from stages.config import study_configs
    from stages.nn.step import diagnostic_stride
    from tests.configs import PARAMS

    checked = 0
    for study, spec in PARAMS.studies.items():
        for variant in spec.variants:
            for _, cfg in study_configs(PARAMS, study, variant):
                arrays = load_arrays(processed / cfg.dataset, cfg)
                units = head_for(arrays.task, cfg.loss, arrays.n_classes).units
                dims = [arrays.x["train"].shape[1], *cfg.hidden, units]
                weights = sum(a * b for a, b in zip(dims, dims[1:]))
                steps = engine.training_shape(cfg, arrays)["steps_per_epoch"]
                assert diagnostic_stride(steps, weights) == diagnostic_stride(steps), (study, variant)
                checked += 1
    assert checked > 50


@pytest.mark.parametrize("diagnostics", [True, False])  # the probe's measurement graph, or the evaluation graph
def test_a_validation_budget_measures_the_curve_on_its_rows_and_the_final_scores_on_every_row(processed, diagnostics):
    whole = make(processed, learning_rate=0.01, diagnostics=diagnostics)
    cut = make(processed, learning_rate=0.01, val_rows=60, diagnostics=diagnostics)
    assert whole.arrays.curve_rows is None and len(cut.arrays.curve_rows) == 60
    ours, theirs = cut.run({}, seed=0), whole.run({}, seed=0)
    assert [row["train_loss"] for row in ours.history] == [row["train_loss"] for row in theirs.history]
    assert all(np.array_equal(a, b) for a, b in zip(ours.weights, theirs.weights))  # the budget trains nothing else
    assert ours.final["val_metric"] == theirs.final["val_metric"]  # the final scores: every validation row
    on_curve = cut.step.evaluate_split(*cut.step.data["val_curve"])
    assert ours.history[-1]["val_loss"] == history.finite(on_curve["loss"])
    assert ours.history[-1]["val_loss"] != theirs.history[-1]["val_loss"]
