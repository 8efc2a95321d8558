"""The measurements behind the failure-and-cure table: the standard initialization, label noise, nets born dead,
the top layer's saturation over epochs, and cure comparisons paired by seed."""
from __future__ import annotations

import numpy as np
import pytest

from stages.analysis import curves, entries, study_summary
from stages.analysis.cures import compare_cures, compare_references, cure_pairs, reaches
from stages.catalog.layers import INITIALIZERS
from stages.ingest.arrays import load_arrays, noisy_labels
from tests.configs import report_config, train_config


def test_standard_initialization_has_variance_one_third_over_fan_in():
    pytest.importorskip("keras")
    fan_in, fan_out = 400, 300
    weights = np.asarray(INITIALIZERS.get("standard_uniform")(train_config(), 7)((fan_in, fan_out)))
    assert np.abs(weights).max() <= 1 / np.sqrt(fan_in)  # U[-1/sqrt(fan_in), 1/sqrt(fan_in)]
    assert weights.var() == pytest.approx(1 / (3 * fan_in), rel=0.02)


def test_label_noise_moves_exactly_the_share_to_other_classes():
    labels = np.arange(1000) % 10
    noisy = noisy_labels(labels, 0.3, 10)
    changed = noisy != labels
    assert changed.sum() == 300 and set(np.unique(noisy)) <= set(range(10))
    assert np.array_equal(noisy, noisy_labels(labels, 0.3, 10))  # one fixed set, whatever the seed


def test_label_noise_touches_training_labels_only(processed):
    clean = load_arrays(processed / "fashion_mnist", train_config())
    noisy = load_arrays(processed / "fashion_mnist", train_config(label_noise=0.25))
    assert (noisy.y["train"] != clean.y["train"]).sum() == round(0.25 * len(clean.y["train"]))
    for split in ("val", "test"):
        assert np.array_equal(noisy.y[split], clean.y[split])
    assert np.array_equal(noisy.x["train"], clean.x["train"])


def test_positive_classes_read_a_multiclass_dataset_as_binary_in_every_split(processed):
    ten = load_arrays(processed / "fashion_mnist", train_config())
    two = load_arrays(processed / "fashion_mnist", train_config(positive_classes=[5, 6, 7, 8, 9], label_noise=0.1))
    assert (ten.task, two.task, two.n_classes) == ("multiclass", "binary", 2)
    for split in ("val", "test"):
        assert np.array_equal(two.y[split], (ten.y[split] >= 5).astype(ten.y[split].dtype))
    flipped = two.y["train"] != (ten.y["train"] >= 5)
    assert flipped.sum() == round(0.1 * len(ten.y["train"]))  # label noise acts on the binary labels


def test_positive_classes_must_be_some_but_not_all_classes(processed):
    from stages.common.errors import DataError

    for positive in ([10], list(range(10))):
        with pytest.raises(DataError, match=r"positive_classes .* must be some, not all, of its classes"):
            load_arrays(processed / "fashion_mnist", train_config(positive_classes=positive))


def _engine(processed, **changes):
    pytest.importorskip("tensorflow")
    from stages.nn import engine

    cfg = train_config(**{"hidden": [8, 8, 8], "epochs": 3, "seeds": [0], "probe_size": 64, **changes})
    return engine.new_engine(cfg, load_arrays(processed / "fashion_mnist", cfg))


def test_a_net_with_a_dead_layer_is_born_dead_and_a_leaky_one_never_is(processed):
    for activation, dead in (("relu", 1.0), ("leaky_relu", 0.0)):
        trainer = _engine(processed, activation=activation)
        trainer.reset({}, 0)
        assert trainer._measure()["constant_output"] == 0.0  # a healthy start
        trainer.step.dense[1].bias.assign(np.full(8, -100.0, np.float32))  # every unit of layer 2 below zero
        assert trainer._measure()["constant_output"] == dead


def test_saturation_is_logged_per_layer_and_epoch(processed):
    run = _engine(processed, activation="sigmoid", initializer="standard_uniform").run({}, seed=0)
    assert [row["epoch"] for row in run.history] == [0, 1, 2, 3]
    assert all(len(row["saturated_fraction"]) == 3 for row in run.history)
    assert run.final["init"]["constant_output"] == 0.0


def _run(seed: int, tops: list[float], constant: tuple[int, int] = (0, 0), metric: float = 0.5) -> dict:
    history = [{"saturated_fraction": [0.0, top], "constant_output": 0} for top in tops]
    history[0]["constant_output"], history[-1]["constant_output"] = constant
    return {"seed": seed, "setting": {}, "history": history, "final": {"test_metric": metric}}


def test_failure_evidence_finds_the_top_layer_peak_and_its_recovery():
    runs = [_run(0, [0.0, 1.0, 0.9, 0.2, 0.1], (1, 1)), _run(1, [0.0, 0.5, 1.0, 0.8, 0.25]),
            _run(2, [0.0, 1.0, 1.0, 1.0, 1.0])]
    found = entries.failure_evidence(runs, report_config(saturated_fraction=0.3))
    assert found["born_dead_runs"] == 1 and found["collapsed_runs"] == 1
    assert found["top_saturation_peak"] == 1.0
    assert found["top_saturation_peak_epoch"] == 1  # epochs 1, 2, 1
    assert found["top_saturation_recovered"] == 4  # epochs 3, 4 and never: the median


def test_cure_pairs_expand_plain_names_over_conditions():
    assert cure_pairs({"leaky_relu": "relu"}, ["d10", "d20"]) == [("leaky_relu/d10", "relu/d10"),
                                                                               ("leaky_relu/d20", "relu/d20")]
    assert cure_pairs({"tanh/deep": "sigmoid/deep"}, ["deep", "shallow"]) == [("tanh/deep", "sigmoid/deep")]
    assert cure_pairs({"he": "glorot"}, [""]) == [("he", "glorot")]


def test_cures_are_compared_by_seed_and_join_the_holm_family():
    def variant(metrics: list[float]) -> dict:
        return {"metrics": {"best_setting": {}, "metric": "accuracy", "n_test": 10_000},
                "runs": [{"seed": s, "setting": {}, "history": [], "final": {"test_metric": m}}
                         for s, m in enumerate(metrics)]}

    loaded = {"deep": {"sigmoid": variant([0.5, 0.6, 0.55, 0.5, 0.58]), "tanh": variant([0.9, 0.92, 0.91, 0.9, 0.93])}}
    cures = compare_cures(loaded, {"tanh/deep": "sigmoid/deep", "relu/deep": "sigmoid/deep"},
                                        report_config())
    assert list(cures) == ["tanh/deep vs sigmoid/deep"]  # relu was not trained: no comparison
    e = cures["tanh/deep vs sigmoid/deep"]
    assert e["paired_seeds"] == 5 and e["diff_vs_baseline"] == pytest.approx(0.912 - 0.546)
    study_summary.adjust({}, report_config(), cures)
    # the family holds this pair's two tests (difference, equivalence): Holm doubles the smaller p
    assert e["verdict"] == "better" and e["p_adjusted"] == pytest.approx(2 * e["p_vs_baseline"], rel=1e-3)


def _finals(finals: list[dict]) -> dict:
    return {"metrics": {"best_setting": {}, "metric": "accuracy", "n_test": 1_000},
            "runs": [{"seed": s, "setting": {}, "history": [], "final": final} for s, final in enumerate(finals)]}


DIVERGED = {"diverged": True, "test_metric": None, "train_metric": None}


def _trained(test: float, train: float) -> dict:
    return {"diverged": False, "test_metric": test, "train_metric": train}


def test_a_cure_of_divergence_is_judged_on_the_runs_that_diverged():
    loaded = {"": {"large": _finals([DIVERGED] * 12), "clipped": _finals([_trained(0.3, 0.31)] * 12)}}
    cures = compare_cures(loaded, {"clipped": "large"}, report_config())
    assert cures["clipped vs large"]["paired_seeds"] == 0  # the test metric has no pairs: every failure diverged
    e = cures["clipped vs large on divergence"]
    assert e["paired_seeds"] == 12 and e["diff_vs_baseline"] == -1.0
    study_summary.adjust({}, report_config(), cures)
    assert e["verdict"] == "better" and e["p_adjusted"] == pytest.approx(2 * 0.5 ** 12, rel=1e-3)


def test_divergence_decides_only_where_every_failure_run_diverged_and_a_useless_cure_is_not_resolved():
    some = {"": {"large": _finals([DIVERGED] + [_trained(0.5, 0.5)] * 11),
                 "clipped": _finals([_trained(0.6 + 0.01 * s, 0.6) for s in range(12)])}}
    assert "clipped vs large on divergence" not in compare_cures(some, {"clipped": "large"}, report_config())
    useless = {"": {"large": _finals([DIVERGED] * 12), "clipped": _finals([DIVERGED] * 12)}}
    cures = compare_cures(useless, {"clipped": "large"}, report_config())
    study_summary.adjust({}, report_config(), cures)
    e = cures["clipped vs large on divergence"]
    assert e["diff_vs_baseline"] == 0.0 and e["p_vs_baseline"] == 1.0 and e["verdict"] == "not resolved"


def test_a_cure_of_overfitting_is_judged_on_overfitting_floored_at_zero():
    cfg = report_config(overfit_gap=0.05)
    large = _finals([_trained(0.8, t) for t in (1.0, 0.99, 1.0, 0.98, 1.0)])  # 0.18-0.2 beyond test
    loaded = {"": {"large": large, "medium": _finals([_trained(0.81, t) for t in (0.82, 0.83, 0.6, 0.82, 0.84)])}}
    cures = compare_cures(loaded, {"medium": "large"}, cfg)
    e = cures["medium vs large on overfitting"]
    # medium's third seed fits its training set worse than the test set: it counts as 0, not as a bonus
    assert e["diff_vs_baseline"] == pytest.approx(((0.01 + 0.02 + 0 + 0.01 + 0.03) - (0.2 + 0.19 + 0.2 + 0.18 + 0.2)) / 5)
    assert e["metric"] == "accuracy" and "medium vs large on divergence" not in cures
    loaded[""]["large"] = _finals([_trained(0.8, t) for t in (1.0, 0.99, 0.82, 0.98, 1.0)])  # one seed does not overfit
    assert "medium vs large on overfitting" not in compare_cures(loaded, {"medium": "large"}, cfg)


def test_the_concept_row_of_a_cure_is_decided_on_its_declared_endpoint():
    from stages.config import ConceptRow
    from stages.reporting import concepts

    cfg = report_config()
    loaded = {"": {"large": _finals([DIVERGED] * 12), "clipped": _finals([_trained(0.3, 0.31)] * 12)}}
    cures = compare_cures(loaded, {"clipped": "large"}, cfg)
    study_summary.adjust({}, cfg, cures)
    entry = {"runs": 12, "metric": "accuracy", "test_metric": 0.3, "train_metric": 0.31, "val_metric": 0.3}
    summary = {"large": {**entry, "diverged_runs": 12, "test_metric": None}, "clipped": {**entry, "diverged_runs": 0}}
    row = ConceptRow(concept="Exploding gradients; clipping", paper="Pascanu et al. (2013)", study="initializers",
                     shows="clipped", endpoint="divergence", expect="better")
    lines = concepts.cure_rows(row, summary, {"cures": cures}, cfg)
    concepts.confirm(lines, cfg)
    (failure, cure, effect, p, verdict), = [line.cells for line in lines]
    assert "12/12 runs diverged" in failure and "0/12 runs diverged" in cure
    assert effect.startswith("share of runs that diverged: -1") and verdict == "shown"
    assert "secondary" not in cure  # no test accuracy to pair it with: every run of the failure diverged
    on_accuracy = concepts.cure_rows(row.model_copy(update={"endpoint": "saturation"}), summary, {"cures": cures}, cfg)
    assert on_accuracy[0].test is None and on_accuracy[0].cells[4].startswith("not tested: `large` does not show "
                                                                              "saturation")


def test_optimizer_speed_is_chosen_on_the_training_loss_averaged_over_epochs():
    from types import SimpleNamespace

    from stages.analysis import replicates
    from stages.nn.history import final_summary
    from stages.catalog.tasks import TASKS

    rows = [{"epoch": e, "train_loss": loss, "val_metric": 0.9, "saturated_fraction": None, "dead_fraction": None,
             "probe_grad_norm": None, "preact_grad_norm": None, "activation_std": None, "symmetric": None,
             "constant_output": None} for e, loss in enumerate([2.0, 1.0, 0.5, 0.3])]
    scores = {split: {"loss": 0.1, "accuracy": 0.9} for split in ("train", "val", "test")}
    final = final_summary(train_config(), TASKS.get("multiclass"), rows, None, scores, None)
    assert final["train_loss_auc"] == pytest.approx(0.6) and final["train_loss_epoch_1"] == 1.0

    def point(rate, auc, val):
        run = SimpleNamespace(point={"learning_rate": rate}, seed=0, history=[{}],
                              final={"diverged": False, "epochs_to_target": None, "val_metric": val,
                                     "train_loss_auc": auc})
        return replicates.summarize_point([run], True, "train_loss_auc")

    points = [point(0.01, 0.4, 0.95), point(0.1, 0.2, 0.90)]
    assert replicates.choose(points)["setting"] == {"learning_rate": 0.1}  # lower loss wins, not higher accuracy


def test_noise_slope_matches_the_finite_population_prediction_for_noise_that_follows_it():
    population = 1024

    def variant(batch):
        ratio = np.sqrt(3.0 * (population - batch) / (batch * (population - 1)))  # tr(Σ)/|G|² = 3
        runs = [{"seed": s, "setting": {}, "history": [{"noise_ratio": float(ratio)}], "final": {}} for s in range(3)]
        return {"metrics": {"best_setting": {}, "noise_batch": batch, "noise_population": population}, "runs": runs}

    found = curves.noise_slope({f"b{b}": variant(b) for b in (1, 8, 32, 128, 512)})
    assert found["slope"] == pytest.approx(found["predicted"], abs=2e-3)
    assert found["predicted"] < -1  # the finite-population factor bends the curve below -1 near B = N / 2
    assert found["seeds"] == 3 and found["batches"] == [1, 8, 32, 128, 512]


def test_a_cure_that_stops_the_failure_but_learns_little_falls_short_of_its_healthy_reference():
    """Clipping stops large weights from diverging, yet the clipped net reaches 0.3 where a Glorot net reaches
    0.95: the row must say the cure falls short, per condition, paired by seed."""
    loaded = {condition: {"normal_large_clipped": _finals([_trained(0.30 + 0.01 * s, 0.3) for s in range(5)]),
                          "glorot_uniform": _finals([_trained(0.95 + 0.002 * s, 0.96) for s in range(5)]),
                          "he_normal": _finals([_trained(0.951 + 0.002 * s, 0.96) for s in range(5)])}
              for condition in ("tanh", "relu")}
    found = compare_references(loaded, {"normal_large_clipped": "glorot_uniform"}, report_config())
    assert list(found) == ["normal_large_clipped/tanh vs glorot_uniform/tanh",
                           "normal_large_clipped/relu vs glorot_uniform/relu"]
    e = found["normal_large_clipped/tanh vs glorot_uniform/tanh"]
    assert e["reaches"] == "falls short" and e["diff_vs_baseline"] == pytest.approx(0.32 - 0.954)
    assert e["reference_metric"] == pytest.approx(0.954)
    near = compare_references(loaded, {"he_normal": "glorot_uniform"}, report_config())
    assert {e["reaches"] for e in near.values()} == {"reaches"}  # 0.001 better in every seed: within the margin


def test_reaching_a_reference_reads_the_interval_against_the_margin_in_the_metrics_direction():
    interval = lambda low, high, metric="accuracy": {"diff_low": low, "diff_high": high, "metric": metric}  # noqa: E731
    assert reaches(interval(-0.004, 0.002), 0.01) == "reaches"
    assert reaches(interval(-0.05, -0.02), 0.01) == "falls short"
    assert reaches(interval(-0.05, 0.02), 0.01) == "unclear"
    assert reaches(interval(0.02, 0.05, "mae"), 0.01) == "falls short"  # a larger error is worse
    assert reaches(interval(-0.3, 0.001, "mae"), 0.01) == "reaches"


def test_a_data_budget_draws_the_same_stratified_rows_every_time_and_reads_only_those(processed):
    full = load_arrays(processed / "fashion_mnist", train_config())
    budget = load_arrays(processed / "fashion_mnist", train_config(train_rows=300))
    again = load_arrays(processed / "fashion_mnist", train_config(train_rows=300))
    assert len(budget.y["train"]) == 300
    assert np.array_equal(budget.x["train"], again.x["train"]) and np.array_equal(budget.y["train"], again.y["train"])
    shares = np.bincount(budget.y["train"], minlength=10) / 300
    assert np.abs(shares - np.bincount(full.y["train"], minlength=10) / len(full.y["train"])).max() <= 1 / 300
    rows = {row.tobytes() for row in full.x["train"]}
    assert all(row.tobytes() in rows for row in budget.x["train"])  # rows of the training split, as they are
    for split in ("val", "test"):
        assert np.array_equal(budget.y[split], full.y[split])  # the budget is on training rows only
    # a budget at or above the data's size is all of it, unchanged
    for rows_budget in (len(full.y["train"]), 10 ** 6):
        whole = load_arrays(processed / "fashion_mnist", train_config(train_rows=rows_budget))
        assert np.array_equal(whole.x["train"], full.x["train"]) and np.array_equal(whole.y["train"], full.y["train"])


def test_budget_rows_are_stratified_by_largest_remainders_and_fixed_by_the_seed():
    from stages.ingest.arrays import budget_rows

    labels = np.array([0] * 50 + [1] * 30 + [2] * 20)
    chosen = budget_rows(labels, 11, seed=0, stratify=True)
    assert np.bincount(labels[chosen]).tolist() == [6, 3, 2]  # quotas 5.5, 3.3, 2.2: the .5 gets the spare row
    assert np.array_equal(chosen, budget_rows(labels, 11, seed=0, stratify=True))
    assert not np.array_equal(chosen, budget_rows(labels, 11, seed=1, stratify=True))
    assert len(set(budget_rows(labels, 40, seed=0, stratify=False))) == 40


def test_a_memory_mapped_split_reads_the_same_values_as_numpy(tmp_path):
    from stages.ingest.arrays import mapped_array

    x = np.arange(60, dtype=np.float32).reshape(20, 3)
    np.savez(tmp_path / "train.npz", x=x, y=np.arange(20))
    mapped = mapped_array(tmp_path / "train.npz", "x")
    assert isinstance(mapped, np.memmap) and np.array_equal(mapped[[1, 7, 19]], x[[1, 7, 19]])


def test_a_validation_budget_is_a_fixed_stratified_subset_and_never_cuts_the_split(processed):
    full = load_arrays(processed / "fashion_mnist", train_config(val_rows=None))
    budget = load_arrays(processed / "fashion_mnist", train_config(val_rows=100))
    again = load_arrays(processed / "fashion_mnist", train_config(val_rows=100))
    assert full.curve_rows is None and np.array_equal(budget.curve_rows, again.curve_rows)
    assert len(budget.curve_rows) == 100 and np.all(np.diff(budget.curve_rows) > 0)
    shares = np.bincount(budget.y["val"][budget.curve_rows], minlength=10) / 100
    assert np.abs(shares - np.bincount(full.y["val"], minlength=10) / len(full.y["val"])).max() <= 1 / 100
    for split in ("train", "val", "test"):
        assert np.array_equal(budget.x[split], full.x[split])  # the split itself stays whole
    for rows_budget in (len(full.y["val"]), 10 ** 6):  # a budget at or above the split's size: every row
        assert load_arrays(processed / "fashion_mnist", train_config(val_rows=rows_budget)).curve_rows is None
    binary = load_arrays(processed / "fashion_mnist", train_config(val_rows=100, positive_classes=[5, 6, 7, 8, 9]))
    assert np.array_equal(binary.curve_rows, budget.curve_rows)  # drawn on the dataset's own classes
