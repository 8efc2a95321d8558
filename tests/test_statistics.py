"""Statistics over seeds, per-point aggregation and the report's computed verdicts."""
from __future__ import annotations

import math

import pytest
from scipy import stats

from stages.analysis import replicates, statistics
from stages.reporting import verdicts
from tests.configs import PARAMS, report_config


def test_ci95_is_the_t_interval():
    assert statistics.ci95([1.0, 2.0, 3.0]) == pytest.approx(stats.t.ppf(0.975, 2) / math.sqrt(3), rel=1e-5)
    assert statistics.ci95([1.0, None]) is None


def test_welch_matches_scipy_and_handles_degenerate_cases():
    a, b = [0.9, 0.92, 0.95], [0.8, 0.85, 0.83]
    result = statistics.welch(a, b)
    assert result["p_vs_baseline"] == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-5)
    assert result["diff_vs_baseline"] == pytest.approx(sum(a) / 3 - sum(b) / 3, rel=1e-5)
    assert statistics.welch([0.5, 0.5], [0.5, 0.5])["p_vs_baseline"] == 1.0
    assert statistics.welch([None, 0.5], [0.4, 0.5])["p_vs_baseline"] is None


def test_log_slope_recovers_a_power_law():
    sizes = [1, 4, 16, 64]
    assert statistics.log_slope(sizes, [3.0 / s for s in sizes]) == pytest.approx(-1.0)
    assert statistics.log_slope([1], [1.0]) is None


def test_mean_std_skips_missing_values():
    assert replicates.mean_std([1.0, None, 3.0]) == (2.0, pytest.approx(math.sqrt(2), rel=1e-5), 2)  # 6 digits
    assert replicates.mean_std([None]) == (None, None, 0)


def test_choose_prefers_fewer_divergences_then_the_better_score():
    points = [{"diverged_runs": 1, "score": 0.99}, {"diverged_runs": 0, "score": 0.9},
              {"diverged_runs": 0, "score": 0.95}]
    assert replicates.choose(points) is points[2]


def entry(**values) -> dict:
    base = {"metric": "accuracy", "val_metric": 0.9, "val_metric_ci95": 0.01, "p_vs_baseline": 0.5,
            "diff_vs_baseline": 0.0, "train_loss": 0.1, "epochs_to_target": None, "diverged_runs": 0,
            "generalization_gap": 0.0}
    return {**base, **values}


def test_vanishing_and_dead_units_are_flagged_by_threshold():
    cfg = report_config(vanishing_ratio=0.01, dead_fraction=0.3)
    summary = {"sigmoid/deep": entry(grad_norm_first_over_last_init=1e-5, val_metric=0.1),
               "relu/deep": entry(grad_norm_first_over_last_init=0.5, dead_fraction=0.6)}
    text = "\n".join(verdicts.deep_nets(summary, cfg, {}, PARAMS.studies["activations"]))
    assert "Vanishing gradients at initialization (first/last hidden layer gradient norm below 0.01): sigmoid/deep" in text
    assert "Dead ReLU units (share above 0.3): relu/deep (0.6)" in text
    assert "Failed to learn (validation accuracy below 0.5): sigmoid/deep" in text


def test_optimizer_verdict_says_whether_it_agrees_with_kingma_and_ba():
    cfg = report_config()
    agreeing = {"adam": entry(train_loss=0.01), "minibatch_sgd": entry(train_loss=0.2)}
    assert "agrees with their finding" in verdicts.optimizers(agreeing, cfg, {}, PARAMS.studies["optimizers"])[0]
    disagreeing = {"adam": entry(train_loss=0.3), "minibatch_sgd": entry(train_loss=0.2)}
    assert "disagrees with Kingma & Ba" in verdicts.optimizers(disagreeing, cfg, {}, PARAMS.studies["optimizers"])[0]


def test_general_verdict_names_significant_differences():
    cfg = report_config(significance=0.05)
    summary = {"a": entry(p_vs_baseline=None), "b": entry(val_metric=0.95, p_vs_baseline=0.01, diff_vs_baseline=0.05),
               "c": entry(p_vs_baseline=0.4)}
    text = "\n".join(verdicts.general(summary, cfg, "a"))
    assert "Best on validation: **b**" in text
    assert "Differs from the baseline a at p < 0.05: b (0.05, p=0.01)" in text
    assert "Not distinguishable from a with these seeds: c" in text


def test_verdicts_find_their_variants_through_roles_not_names():
    """A study whose params give the roles to other variant names gets the same verdicts."""
    spec = PARAMS.studies["optimizers"].model_copy(update={"roles": {"claimed_fastest": ["adam_v2"],
                                                                     "adaptive": ["adam_v2"]}})
    summary = {"adam_v2": entry(train_loss=0.01, lr_good_range_decades=1.0), "sgd_plain": entry(train_loss=0.2,
                                                                                                lr_good_range_decades=0.5)}
    lines = verdicts.optimizers(summary, report_config(), {}, spec)
    assert "**adam_v2**" in lines[0] and "agrees with their finding" in lines[0]
    assert any("adaptive methods (adam_v2)" in line and "were the less sensitive" in line for line in lines)


def test_a_role_whose_variant_was_not_trained_is_reported_not_dropped():
    spec = PARAMS.studies["optimizers"]
    summary = {"minibatch_sgd": entry(train_loss=0.2), "sgd": entry(train_loss=0.1)}  # no adam, no adaptive method
    text = "\n".join(verdicts.optimizers(summary, report_config(), {}, spec))
    assert "No verdict on the `claimed_fastest` role: adam was not trained in this run." in text
    assert "No verdict on the `adaptive` role: adagrad, rmsprop, adam were not trained in this run." in text
    cures = PARAMS.studies["initializers"]
    lines = verdicts.initializers({"normal_large_clipped/relu": entry()}, report_config(), {}, cures)
    assert "relu: no verdict on the cure normal_large_clipped for normal_large: normal_large was not trained" \
        in "\n".join(lines)
