"""Statistics over seeds, per-point aggregation and the report's computed verdicts."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy import stats

from stages.analysis import replicates, statistics
from stages.reporting import failures, generalization, speed, verdicts
from tests.configs import PARAMS, report_config


def test_holm_adjusts_a_known_family():
    # Holm (1979): sorted p times (m - rank), made monotone, capped at 1; None is no test and stays None.
    assert statistics.holm([0.01, 0.04, 0.03, 0.2, None]) == [0.04, 0.09, 0.09, 0.2, None]
    assert statistics.holm([0.048, 0.026, 0.025]) == pytest.approx([0.075, 0.075, 0.075])


def test_wilson_interval_stays_inside_the_unit_interval():
    low, high = statistics.wilson(0.99, 231)
    assert 0 <= low < 0.99 < high <= 1
    assert statistics.wilson(1.0, 231)[1] == 1.0


def test_accuracy_intervals_are_t_intervals_clipped_to_zero_one():
    shares = [0.9957, 0.9871, 1.0]
    t_low, t_high = stats.t.interval(0.95, 2, loc=np.mean(shares), scale=stats.sem(shares))
    assert t_high > 1 and statistics.mean_interval(shares, 231) == (pytest.approx(t_low, rel=1e-4), 1.0)
    assert statistics.mean_interval([1.0, 2.0, 3.0], None) == pytest.approx(
        (2 - stats.t.ppf(0.975, 2) / math.sqrt(3), 2 + stats.t.ppf(0.975, 2) / math.sqrt(3)), rel=1e-5)
    assert statistics.mean_interval([0.99], 231) == statistics.wilson(0.99, 231)


def test_tost_calls_identical_samples_equivalent_and_noisy_small_samples_unresolved():
    same = statistics.paired([0.9, 0.92, 0.95], [0.9, 0.92, 0.95], margin=0.01)
    assert same["p_equivalence"] == 0.0 and same["p_vs_baseline"] == 1.0 and same["diff_vs_baseline"] == 0.0
    noisy = statistics.paired([0.90, 0.97, 0.85], [0.93, 0.88, 0.91], margin=0.01)
    assert noisy["p_equivalence"] > 0.05 and noisy["p_vs_baseline"] > 0.05
    assert noisy["detectable_effect"] > 0.05  # three noisy seeds cannot see a small effect
    assert noisy["diff_low"] < noisy["diff_vs_baseline"] < noisy["diff_high"]


def test_divergence_is_compared_seed_by_seed_with_the_exact_mcnemar_test():
    cured = statistics.paired_events([False] * 12, [True] * 12)
    assert cured["p_vs_baseline"] == pytest.approx(2 * 0.5 ** 12)  # 12 discordant seeds, all one way
    assert cured["diff_vs_baseline"] == -1.0 and cured["diff_low"] == -1.0 and cured["diff_high"] < 0
    assert cured["p_equivalence"] is None  # no equivalence test on an event
    few = statistics.paired_events([False] * 5, [True] * 5)
    assert few["p_vs_baseline"] == 0.0625 and few["diff_high"] > 0  # 5 seeds cannot show it at 5%
    same = statistics.paired_events([True, False, True], [True, False, True])
    assert same["p_vs_baseline"] == 1.0 and same["diff_vs_baseline"] == 0.0
    # only the seeds where the two disagree count: 3 one way, 1 the other, of 6
    mixed = statistics.paired_events([True, True, True, False, False, True], [False, False, False, True, False, True])
    assert mixed["p_vs_baseline"] == pytest.approx(stats.binomtest(3, 4).pvalue)
    assert mixed["diff_vs_baseline"] == pytest.approx(2 / 6) and mixed["diff_low"] < 0 < mixed["diff_high"]


def test_paired_test_is_the_t_test_on_seed_differences():
    a, b = [0.90, 0.92, 0.95, 0.91], [0.88, 0.91, 0.92, 0.90]
    result = statistics.paired(a, b, margin=0.05)
    assert result["p_vs_baseline"] == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-5)
    assert result["paired_seeds"] == 4
    interval = stats.ttest_rel(a, b).confidence_interval(0.95)  # the interval is the test's own
    assert (result["diff_low"], result["diff_high"]) == (pytest.approx(interval.low, rel=1e-4),
                                                        pytest.approx(interval.high, rel=1e-4))


def test_identical_predictions_give_a_zero_width_paired_interval_and_equivalence():
    # two arms scored on the same test examples with the same predictions: no difference in any seed, however
    # noisy the seeds themselves (an unpaired interval over test examples would be wide here)
    seeds = [0.61, 0.95, 0.78, 0.88, 0.70]
    same = statistics.paired(seeds, seeds, margin=0.01)
    assert (same["diff_low"], same["diff_high"]) == (0.0, 0.0)
    assert same["p_equivalence"] == 0.0 and same["p_vs_baseline"] == 1.0


def test_one_outlying_seed_widens_the_interval_and_the_test_together():
    steady = statistics.paired([0.80, 0.81, 0.82, 0.80, 0.81, 0.82], [0.78, 0.79, 0.80, 0.78, 0.79, 0.80], 0.01)
    outlier = statistics.paired([0.80, 0.81, 0.82, 0.80, 0.81, 0.50], [0.78, 0.79, 0.80, 0.78, 0.79, 0.80], 0.01)
    assert steady["p_vs_baseline"] < 1e-6 and steady["diff_low"] > 0
    assert outlier["p_vs_baseline"] > 0.05 and outlier["diff_low"] < 0 < outlier["diff_high"]


def test_verdicts_follow_the_adjusted_tests():
    from stages.analysis import study_summary

    def compared(metric, p, p_equivalence, diff, low, high):
        return {"metric": metric, "paired_seeds": 5, "p_vs_baseline": p, "p_equivalence": p_equivalence,
                "diff_vs_baseline": diff, "diff_low": low, "diff_high": high}

    summary = {"better": compared("accuracy", 0.001, 0.9, 0.05, 0.03, 0.07),
               "worse_mae": compared("mae", 0.001, 0.9, 0.3, 0.2, 0.4),
               "same": compared("accuracy", 0.9, 0.001, 0.0, -0.005, 0.005),
               "unclear": compared("accuracy", 0.03, 0.4, 0.01, 0.002, 0.02),
               "interval_crosses_zero": compared("accuracy", 0.0001, 0.9, 0.01, -0.002, 0.02),
               "interval_outside_margin": compared("accuracy", 0.9, 0.0001, 0.0, -0.02, 0.02),
               "base": {"metric": "accuracy", "paired_seeds": 0}}
    study_summary.adjust(summary, report_config(significance=0.05))
    assert [summary[k]["verdict"] for k in summary] == [
        "better", "worse", "equivalent", "not resolved",  # 0.03 alone would pass; Holm over 12 tests does not
        "not resolved", "not resolved", None]  # a test needs its interval to agree
    assert summary["unclear"]["p_adjusted"] > 0.05 and summary["base"]["verdict"] is None


def test_epochs_to_target_is_a_censored_median():
    assert replicates.censored_median([2, 3, None]) == 3.0
    assert replicates.censored_median([14, None, None]) is None  # not a mean over the one run that got there
    assert replicates.censored_median([None]) is None


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
    base = {"metric": "accuracy", "val_metric": 0.9, "test_metric": 0.9, "test_low": 0.88, "test_high": 0.92,
            "p_vs_baseline": 0.5, "p_adjusted": 0.5, "p_equivalence": 0.5, "p_equivalence_adjusted": 0.5,
            "diff_vs_baseline": 0.0, "diff_low": -0.02, "diff_high": 0.02, "detectable_effect": 0.03,
            "paired_seeds": 5, "verdict": "not resolved", "train_loss": 0.1, "epochs_to_target": None,
            "diverged_runs": 0, "runs": 5, "generalization_gap": 0.0}
    return {**base, **values}


def study(name: str) -> tuple:
    """The study's config and its report settings, as the verdict functions take them."""
    return PARAMS.studies[name], PARAMS.report.studies[name]


def test_vanishing_and_dead_units_are_flagged_by_threshold():
    cfg = report_config(vanishing_ratio=0.01, dead_fraction=0.3)
    summary = {"sigmoid/deep": entry(grad_norm_first_over_last_init=1e-5, val_metric=0.1),
               "relu/deep": entry(grad_norm_first_over_last_init=0.5, dead_fraction=0.6)}
    text = "\n".join(failures.failure_flags(summary, cfg, {}, PARAMS.studies["activations"],
                                             PARAMS.report.studies["activations"]))
    assert "Vanishing gradients at initialization (first/last hidden layer gradient norm below 0.01): sigmoid/deep" in text
    assert "Dead ReLU units (share above 0.3, symmetric layers left out): relu/deep (0.6)" in text
    symmetric = {"zeros/relu": entry(symmetric_layers_init=10, dead_fraction_init=None)}
    zeros = "\n".join(failures.failure_flags(symmetric, cfg, {}, PARAMS.studies["activations"],
                                              PARAMS.report.studies["activations"]))
    assert "Symmetric layers at initialization (every unit identical, so none can specialize: not the same as " \
           "dead): zeros/relu (10 layers)" in zeros and "Dead ReLU units (share above 0.3, symmetric layers " \
           "left out): none" in zeros
    assert "Failed to learn (validation accuracy below 0.5): sigmoid/deep" in text


def test_optimizer_verdict_tests_kingma_and_ba_on_the_training_loss_only():
    cfg = report_config()
    on_loss = dict(compared_on="train_loss_auc", train_loss_epoch_1=0.5, train_loss_auc_low=0.0, train_loss_auc_high=1.0)
    faster = entry(train_loss_auc=0.05, verdict="better", diff_vs_baseline=-0.05, diff_low=-0.07, diff_high=-0.03,
                   p_adjusted=0.01, **on_loss)
    lines = speed.optimizer_speed({"adam": faster, "minibatch_sgd": entry(train_loss_auc=0.1, verdict=None, **on_loss)},
                                  cfg, {}, *study("optimizers"))
    assert "lowest mean **adam**" in lines[0] and "Faster than minibatch_sgd after Holm's correction: adam." in lines[0]
    assert "claim that adam lowers the training cost fastest: supported against the baseline" in lines[0]
    unresolved = speed.optimizer_speed({"adam": entry(train_loss_auc=0.05, **on_loss),
                                        "minibatch_sgd": entry(train_loss_auc=0.1, verdict=None, **on_loss)},
                                       cfg, {}, *study("optimizers"))
    assert "No optimizer is resolved faster" in unresolved[0] and "not resolved against the baseline" in unresolved[0]
    on_accuracy = speed.optimizer_speed({"adam": entry(), "minibatch_sgd": entry(verdict=None)}, cfg, {},
                                        *study("optimizers"))
    assert not any("Kingma" in line for line in on_accuracy)  # chosen on validation accuracy: no test of the claim


def test_general_verdict_words_each_comparison_as_its_test_supports():
    cfg = report_config(significance=0.05)
    summary = {"a": entry(verdict=None), "b": entry(test_metric=0.95, diff_vs_baseline=0.05, diff_low=0.03,
                                                    diff_high=0.07, p_adjusted=0.01, verdict="better"),
               "c": entry(verdict="equivalent", p_equivalence_adjusted=0.02), "d": entry()}
    text = "\n".join(verdicts.general(summary, cfg, "a"))
    assert "Best mean on the test split: **b**, accuracy 0.95 [0.88, 0.92] (95% interval; a ranking, not a test" in text
    assert "b better by 0.05 [0.03, 0.07] (adjusted p = 0.01)" in text
    assert "c equivalent within ±0.01 (adjusted TOST p = 0.02)" in text
    assert "d: not resolved with 5 seeds (difference 0 [-0.02, 0.02]; the smallest this design detects is ±0.03)" \
        in text


def test_verdicts_find_their_variants_through_roles_not_names():
    """A study whose params give the roles to other variant names gets the same verdicts."""
    plan = PARAMS.report.studies["optimizers"].model_copy(update={"roles": {"claimed_fastest": ["adam_v2"],
                                                                            "adaptive": ["adam_v2"]}})
    on_loss = dict(compared_on="train_loss_auc", train_loss_epoch_1=0.5, train_loss_auc_low=0.0, train_loss_auc_high=1.0)
    summary = {"adam_v2": entry(train_loss_auc=0.01, lr_good_range_decades=1.0, lr_good_range_at_edge=True, **on_loss),
               "sgd_plain": entry(train_loss_auc=0.2, lr_good_range_decades=0.5, lr_good_range_max_decades=1.0,
                                  lr_good_range_at_edge=False, **on_loss)}
    lines = speed.optimizer_speed(summary, report_config(), {}, PARAMS.studies["optimizers"], plan)
    assert "**adam_v2**" in lines[0] and "claim that adam_v2 lowers the training cost fastest" in lines[0]
    ranges = next(line for line in lines if line.startswith("Range of learning rates"))
    assert "adam_v2 ≥1, sgd_plain 0.5-1 (from the outermost good rates to the first rates outside; ≥: the range " \
           "reaches an end of the grid" in ranges
    assert "wider); ≥1 on average for the adaptive methods (adam_v2) vs 0.5-1 for the SGD family (descriptive, no " \
           "test" in ranges  # an average over a range that may be wider may be larger too


def test_verdict_topics_follow_roles_settings_and_metric_not_study_names():
    """A study's own verdicts are the topics its report roles, its params' sweeps and its metric call for: the same
    under another name, and none for a study that calls for none."""
    from stages.catalog.datasets import DATASETS
    from stages.catalog.tasks import TASKS

    def topics(spec, plan) -> list[str]:
        return verdicts.topics({"x": entry(metric=TASKS.get(DATASETS.get(spec.dataset).task).metric)}, spec, plan)

    found = {name: topics(*study(name)) for name in PARAMS.studies}
    assert {name: names for name, names in found.items() if names} == {
        "optimizers": ["optimizer_speed"], "gradient_noise": ["batch_noise"], "activations": ["failure_flags"],
        "initializers": ["init_scaling"], "regression_losses": ["robust_losses"], "regularization": ["penalties"],
        "capacity": ["capacity"]}
    spec, plan = study("init_at_depth")  # Glorot and He, but no clipped cure: not the initializers' verdicts
    assert topics(spec, plan) == []
    assert topics(spec, plan.model_copy(update={"roles": {**plan.roles, "clipped": ["he_normal"]}})) == ["init_scaling"]


def test_a_regularizer_gap_is_worded_within_what_a_share_can_be():
    """A share of the gap closed runs from 0 to 100%: on noisy labels a regularized net's gap reverses (validation
    above training accuracy), and that is said so, not printed as 260% closed."""
    summary = {"none/noisy": entry(generalization_gap=0.16), "dropout/noisy": entry(generalization_gap=-0.26),
               "l2/noisy": entry(generalization_gap=0.04), "l1/noisy": entry(generalization_gap=0.2)}
    text = "\n".join(generalization.penalties(summary, report_config(), {}, *study("regularization")))
    assert "dropout -0.26 (reversed)" in text and "(reversed: validation accuracy above training accuracy" in text
    assert "l2 0.04 (75% of the gap closed)" in text and "l1 0.2 (wider than without)" in text
    assert not re.search(r"\d{3,}(\.\d+)?%|e\+", text), text


def test_a_role_whose_variant_was_not_trained_is_reported_not_dropped():
    summary = {"minibatch_sgd": entry(train_loss=0.2), "sgd": entry(train_loss=0.1)}  # no adam, no adaptive method
    text = "\n".join(speed.optimizer_speed(summary, report_config(), {}, *study("optimizers")))
    assert "No verdict on the `claimed_fastest` role: adam was not trained in this run." in text
    assert "No verdict on the `adaptive` role: adagrad, rmsprop, adam were not trained in this run." in text
    lines = failures.init_scaling({"normal_large_clipped/relu": entry()}, report_config(), {}, *study("initializers"))
    assert "relu: no verdict on the cure normal_large_clipped for normal_large: normal_large was not trained" \
        in "\n".join(lines)
    lines = failures.init_scaling({"normal_large/relu": entry()}, report_config(), {}, *study("initializers"))
    assert "relu: no verdict on the cure normal_large_clipped for normal_large: normal_large_clipped was not " \
           "trained" in "\n".join(lines)  # an experiment that left the clipped variant out


def test_diverged_runs_never_reach_the_final_diagnostics():
    from types import SimpleNamespace

    def run(seed, diverged, dead):
        final = {"diverged": diverged, "epochs_to_target": None, "val_metric": None if diverged else 0.9}
        rows = [{"epoch": 0, "dead_fraction": [0.1]}, {"epoch": 1, "dead_fraction": dead}]
        return SimpleNamespace(point={}, seed=seed, final=final, history=rows)

    summary = replicates.summarize_point([run(0, True, [1.0]), run(1, False, [0.2])], higher_is_better=True)
    assert summary["dead_fraction"] == [0.2] and summary["diagnostics_runs"] == 1  # the NaN net's 1.0 is left out
    assert summary["dead_fraction_init"] == [0.1] and summary["diverged_runs"] == 1


def test_a_choice_at_the_end_of_its_grid_is_flagged_unless_the_response_is_flat_there():
    from stages.analysis.entries import grid_edges

    def points(*scores):
        return [{"setting": {"learning_rate": rate}, "diverged_runs": 0, "score": score}
                for rate, score in zip((0.01, 0.1, 1.0), scores)]

    assert grid_edges({"learning_rate": 1.0}, points(0.5, 0.8, 0.9), 0.02) == ["learning_rate"]
    assert grid_edges({"learning_rate": 0.1}, points(0.5, 0.9, 0.8), 0.02) == []  # interior
    assert grid_edges({"learning_rate": 0.01}, points(0.102, 0.101, 0.1), 0.02) == []  # learns nothing anywhere
    assert grid_edges({"learning_rate": 1.0}, points(0.5, 0.89, 0.9), 0.02) == []  # within the noise band


def test_the_good_learning_rate_range_says_when_it_reaches_an_end_of_its_grid():
    from stages.analysis.entries import learning_rate_findings

    def metrics(*scores, diverged=()):
        rates = (0.001, 0.01, 0.1, 1.0)
        return {"best_setting": {"learning_rate": rates[scores.index(max(scores))]},
                "points": [{"setting": {"learning_rate": rate}, "score": score,
                            "diverged_runs": int(rate in diverged)} for rate, score in zip(rates, scores)]}

    inside = learning_rate_findings(metrics(0.5, 0.89, 0.9, 0.6), 0.02)
    assert inside == {"best_learning_rate": 0.1, "lr_good_range_decades": 1.0, "lr_good_range_max_decades": 3.0,
                      "lr_good_range_at_edge": False, "lr_sensitivity": 0.5}
    assert learning_rate_findings(metrics(0.5, 0.89, 0.9, 0.895), 0.02)["lr_good_range_at_edge"]  # may go on past 1
    assert learning_rate_findings(metrics(0.895, 0.89, 0.9, 0.5), 0.02)["lr_good_range_at_edge"]  # ... or before 0.001
    # a rate that diverged in some run is not good, whatever its score
    diverging = learning_rate_findings(metrics(0.5, 0.89, 0.9, 0.895, diverged=(1.0,)), 0.02)
    assert diverging["lr_good_range_decades"] == 1.0 and not diverging["lr_good_range_at_edge"]
    # nor is it the best the others are measured against: 0.1 and 1.0 are within 0.02 of 0.9, not of 0.95
    above = learning_rate_findings(metrics(0.5, 0.89, 0.9, 0.95, diverged=(1.0,)), 0.02)
    assert above["lr_good_range_decades"] == 1.0 and above["lr_sensitivity"] == 0.5


def test_a_coarser_grid_moves_the_good_range_within_bounds_that_hold_the_finer_grids():
    """The same loss curve over learning rates (good from 0.003 to 0.03: one decade), seen on a fine and on a coarse
    grid: the lower bound drops with the coarse grid, but both grids' bounds contain the true width."""
    from stages.analysis.entries import learning_rate_findings

    def findings(rates):
        points = [{"setting": {"learning_rate": r}, "score": 0.9 if 0.003 <= r <= 0.03 else 0.5, "diverged_runs": 0}
                  for r in rates]
        return learning_rate_findings({"best_setting": {"learning_rate": 0.01}, "points": points}, 0.02)

    fine = findings([0.001, 0.002, 0.003, 0.005, 0.007, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1])
    coarse = findings([0.001, 0.003, 0.01, 0.03, 0.1, 0.3])
    half_decade = findings([0.001, 0.00316, 0.01, 0.0316, 0.1])
    for found in (fine, coarse, half_decade):
        assert found["lr_good_range_decades"] <= 1.0 <= found["lr_good_range_max_decades"], found
    assert half_decade["lr_good_range_decades"] < fine["lr_good_range_decades"]


def test_a_concept_row_is_judged_on_the_test_its_declared_expectation_names():
    """An expected equivalence is judged by TOST (its p in the family), an expected direction by the paired test,
    against which a significant opposite reads "disagrees"; an unresolved row says what would settle it."""
    from stages.config import ConceptRow
    from stages.reporting import concepts

    cfg = report_config()  # accuracy margin 0.01
    findings = {"all": {"baseline": "a"}}

    def verdict(expect: str | None, **values) -> tuple[str, str]:
        row = ConceptRow(concept="Softmax vs sigmoid", paper="Bridle (1990)", study="classification_losses",
                         shows="b", endpoint="test_metric", expect=expect)
        lines = concepts.variant_rows(row, {"a": entry(), "b": entry(**values)}, findings, cfg)
        lines[0].expect = expect
        assert concepts.confirm(lines, cfg) == 1
        return lines[0].cells[-1], lines[0].cells[3]

    close = dict(diff_vs_baseline=0.001, diff_low=-0.004, diff_high=0.006, diff_std=0.004, paired_seeds=40)
    assert verdict("equivalent", **close, p_equivalence=1e-4, p_vs_baseline=0.6, n_test=257) == (
        "equivalent within ±0.01 on these 257 test examples", "1.0e-04")
    assert verdict("equivalent", **close, p_equivalence=1e-4, p_vs_baseline=0.001)[0] == (
        "equivalent within ±0.01 (the difference, 0.001, is itself nonzero: exploratory paired p 0.001)")
    wide, p = verdict("equivalent", diff_low=-0.042, diff_high=0.035, diff_std=0.03)
    assert p == "0.5" and re.fullmatch(r"not resolved with 5 seeds \(the interval is wider than the ±0.01 equivalence "
                                       r"margin\); about \d+ seeds would settle it at the observed effect and spread",
                                       wide), wide
    apart = dict(diff_vs_baseline=0.04, diff_low=0.02, diff_high=0.06, diff_std=0.01, p_vs_baseline=1e-4)
    assert verdict("equivalent", **apart, p_equivalence=0.99)[0] == ("disagrees with the paper: the difference lies "
                                                                    "outside ±0.01")
    assert verdict("better", **apart) == ("better", "1.0e-04")
    assert verdict("worse", **apart)[0] == "disagrees with the paper: better"
    assert verdict(None, **apart)[0] == "better"
    assert re.fullmatch(r"not resolved with 5 seeds \(adjusted p 0.5\); about \d+ seeds would settle it at the "
                        r"observed effect and spread", verdict(None, diff_vs_baseline=0.01, diff_std=0.03)[0])
    assert verdict(None, diff_vs_baseline=1e-5, diff_std=0.03, diff_low=-0.03, diff_high=0.02)[0] == (
        "not resolved with 5 seeds (adjusted p 0.5); its interval rules out only differences beyond ±0.03")
    # the study's own verdict does not carry over: the concept row is judged in its own family
    assert verdict(None, diff_low=0.02, diff_high=0.06, verdict="better", p_adjusted=0.001)[0].startswith(
        "not resolved")


def test_the_concept_rows_form_one_holm_family_over_their_declared_endpoints():
    """Three rows, each judged on its own endpoint's raw p; Holm over the three decides, whatever each study's
    family said (a row at p 0.02 is shown alone, not beside two rows at 0.02 and 0.03)."""
    from stages.reporting import concepts

    cfg = report_config(significance=0.05)
    tests = [entry(p_vs_baseline=p, diff_vs_baseline=0.05, diff_low=0.01, diff_high=0.09, verdict="better",
                   p_adjusted=0.001) for p in (0.02, 0.02, 0.03)]
    lines = [concepts.Line(("f", "c", "e", "-", "-"), test) for test in tests]
    assert concepts.confirm(lines, cfg) == 3
    assert [line.cells[3] for line in lines] == ["0.06", "0.06", "0.06"]
    assert all(line.cells[4].startswith("not resolved") for line in lines)
    alone = [concepts.Line(("f", "c", "e", "-", "-"), tests[0]), concepts.Line(("f", "c", "e", "-", "-"))]
    assert concepts.confirm(alone, cfg) == 1 and alone[0].cells[3:] == ("0.02", "shown")
    assert alone[1].cells[3:] == ("-", "-")  # a row with its own check stays out of the family


def test_the_best_test_mean_is_called_a_ranking_and_says_what_the_tests_compare():
    on_loss = dict(compared_on="train_loss_auc", train_loss_epoch_1=0.5, train_loss_auc_low=0.0, train_loss_auc_high=1.0)
    on_test = verdicts.general({"a": entry(), "b": entry(test_metric=0.95)}, report_config(), "a")[0]
    on_train = verdicts.general({"a": entry(**on_loss), "b": entry(test_metric=0.95, **on_loss)}, report_config(), "a")[0]
    assert on_test.endswith("(95% interval; a ranking, not a test: the paired comparisons below are the tests).")
    assert on_train.endswith("(95% interval; a ranking, not a test; the comparisons below are on the training loss).")


def _swept(values: dict[float, list[float | None]], select_on: str = "val_metric") -> dict:
    """A trained variant with a learning-rate sweep: {rate: per-seed value on select_on (None: diverged)}."""
    runs = [{"setting": {"learning_rate": rate}, "seed": seed,
             "final": {select_on: value, "diverged": value is None, "test_metric": value}}
            for rate, per_seed in values.items() for seed, value in enumerate(per_seed)]
    means = {rate: sum(v for v in vs if v is not None) / len(vs) for rate, vs in values.items()}
    best = max(means, key=means.get)
    return {"runs": runs, "metrics": {"metric": "accuracy", "select_on": select_on,
                                      "best_setting": {"learning_rate": best}}}


def test_each_seeds_setting_is_chosen_on_the_other_seeds():
    from stages.analysis import selection

    # 0.01 wins on all seeds (mean 0.93) only because of seed 2's own 0.99; seeds 0 and 1 prefer 0.1
    variant = _swept({0.01: [0.90, 0.90, 0.99], 0.1: [0.92, 0.92, 0.80]})
    held_out = selection.held_out_runs(variant)
    assert [run["seed"] for run in held_out] == [0, 1, 2]
    assert [run["setting"]["learning_rate"] for run in held_out] == [0.01, 0.01, 0.1]
    assert selection.moved_seeds(held_out, variant["metrics"]["best_setting"]) == 1


def test_a_tie_goes_to_the_smaller_setting_whatever_the_grid_order():
    from stages.analysis import selection

    for grid in ({0.1: [0.9, 0.9, 0.9], 0.01: [0.9, 0.9, 0.9]}, {0.01: [0.9, 0.9, 0.9], 0.1: [0.9, 0.9, 0.9]}):
        assert {run["setting"]["learning_rate"] for run in selection.held_out_runs(_swept(grid))} == {0.01}


def test_cross_fitting_avoids_a_setting_that_diverged_on_the_other_seeds():
    from stages.analysis import selection

    # 1.0 scores best where it trains, but diverged on seed 0: seeds 1 and 2 (whose others include seed 0) avoid it
    variant = _swept({0.1: [0.90, 0.90, 0.90], 1.0: [None, 0.99, 0.99]})
    assert [run["setting"]["learning_rate"] for run in selection.held_out_runs(variant)] == [1.0, 0.1, 0.1]


def test_a_loss_criterion_is_minimized():
    from stages.analysis import selection

    variant = _swept({0.01: [0.05, 0.05, 0.05], 0.1: [0.04, 0.04, 0.04]}, select_on="train_loss_auc")
    assert {run["setting"]["learning_rate"] for run in selection.held_out_runs(variant)} == {0.1}


def test_power_at_the_observed_effect_is_the_paired_t_tests_and_mcnemars():
    from statsmodels.stats.power import TTestPower

    test = statistics.paired([0.05, 0.02, 0.08, 0.01, 0.06], [0.0] * 5, margin=0.01)
    expected = TTestPower().power(effect_size=0.044 / test["diff_std"], nobs=5, alpha=0.025, alternative="larger")
    assert statistics.power_at_observed(test, 0.05) == pytest.approx(expected, rel=1e-3)
    assert statistics.power_at_observed(statistics.paired_events([False] * 12, [True] * 12), 0.05) == 1.0
    assert statistics.power_at_observed(statistics.paired_events([False] * 5, [True] * 5), 0.05) == 0.0  # p ≥ 1/16
    # 10 of 12 seeds cured: a rerun finds it unless too few of its 12 seeds flip
    some = statistics.power_at_observed(statistics.paired_events([False] * 10 + [True] * 2, [True] * 12), 0.05)
    assert 0.5 < some < 1


def test_a_shown_row_that_a_rerun_would_often_not_repeat_reads_not_resolved():
    from stages.reporting import concepts

    cfg = report_config(significance=0.05)
    strong = {"metric": "accuracy", **statistics.paired([0.90, 0.91, 0.92, 0.90, 0.91], [0.80, 0.80, 0.81, 0.80, 0.81],
                                                        0.01)}
    weak = {"metric": "accuracy", **statistics.paired([0.85, 0.82, 0.88, 0.81, 0.86], [0.80] * 5, 0.01)}
    assert weak["p_vs_baseline"] < 0.05 and weak["diff_low"] > 0  # significant alone ...
    for test, power_below in ((strong, False), (weak, True)):
        line = concepts.Line(("f", "c", "e", "-", "-"), test)
        assert concepts.confirm([line], cfg) == 1
        assert (float(line.power) < concepts.REPEAT_POWER) == power_below
        words = line.cells[4]
        assert words.startswith("not resolved: shown at this p") if power_below else words == "shown"


def test_a_tie_in_every_seed_is_said_to_sit_at_a_ceiling():
    from stages.reporting import concepts

    tied = {"metric": "accuracy", **statistics.paired([1.0] * 5, [1.0] * 5, 0.05)}
    line = concepts.Line(("f", "c", "e", "-", "-"), tied)
    concepts.confirm([line], report_config())
    assert line.cells[4].startswith("not shown: both sides are equal in all 5 seeds") and line.power == "0"


def test_seeds_for_power_is_the_fewest_that_reach_it_at_the_observed_effect():
    test = {"diff_vs_baseline": 0.02, "diff_std": 0.03, "p_vs_baseline": 0.1, "paired_seeds": 5}
    needed = statistics.seeds_for_power(test, 0.01, 0.9)
    assert statistics.power_at_observed({**test, "paired_seeds": needed}, 0.01) >= 0.9
    assert statistics.power_at_observed({**test, "paired_seeds": needed - 1}, 0.01) < 0.9
    assert statistics.seeds_for_power({**test, "diff_vs_baseline": 0.0}, 0.01, 0.9) is None  # no effect to find


def test_equivalence_power_rises_with_seeds_and_vanishes_outside_the_margin():
    test = {"diff_vs_baseline": 0.002, "diff_std": 0.01, "paired_seeds": 10}
    few, many = (statistics.equivalence_power({**test, "paired_seeds": n}, 0.01, 0.05) for n in (10, 40))
    assert 0 <= few < many <= 1 and many > 0.9
    assert statistics.equivalence_power({**test, "diff_vs_baseline": 0.012}, 0.01, 0.05) < 0.05
    needed = statistics.seeds_for_power(test, 0.05, 0.9, margin=0.01)
    assert statistics.equivalence_power({**test, "paired_seeds": needed}, 0.01, 0.05) >= 0.9
    assert statistics.equivalence_power({**test, "paired_seeds": needed - 1}, 0.01, 0.05) < 0.9
    assert statistics.seeds_for_power({**test, "diff_vs_baseline": 0.011}, 0.05, 0.9, margin=0.01) is None
    # identical predictions in every seed: equivalent with certainty
    assert statistics.equivalence_power({**test, "diff_vs_baseline": 0.0, "diff_std": 0.0}, 0.01, 0.05) == 1.0


def test_an_optimizer_rows_speed_per_epoch_is_also_given_in_optimizer_steps():
    from stages.reporting import concepts

    speed = entry(compared_on="train_loss_auc", train_loss_auc=0.05, target=0.95, steps_per_epoch=41,
                  epochs_to_target=2.0)
    assert ("training loss averaged over the epochs 0.05, final 0.1; validation accuracy 0.95 after 2 epochs, 82 "
            "steps") in (
        concepts.signs(speed, report_config()))
    never = concepts.signs({**speed, "epochs_to_target": None}, report_config())
    assert "validation accuracy 0.95 not reached by the median run" in never
