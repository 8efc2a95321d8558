"""Cures against their failures, and against healthy references, paired by seed on the test metric and on the
failure's own signs."""
from __future__ import annotations

from collections.abc import Iterator

from stages.analysis import replicates, selection, statistics
from stages.analysis.entries import top_saturation
from stages.catalog.tasks import by_metric
from stages.config import ReportConfig


def cure_pairs(cures: dict[str, str], conditions: list[str]) -> list[tuple[str, str]]:
    """(cure, failure) summary keys: a pair written as `variant/condition` as it is, a pair of plain variant names
    once per condition."""
    pairs = []
    for cure, failure in cures.items():
        if "/" in cure or "/" in failure or conditions == [""]:
            pairs.append((cure, failure))
        else:
            pairs += [(f"{cure}/{condition}", f"{failure}/{condition}") for condition in conditions]
    return pairs


def trained_pairs(loaded: dict[str, dict[str, dict]],
                  pairs: dict[str, str]) -> Iterator[tuple[str, str, dict, dict, list[int], str]]:
    """For each pair (`cure_pairs` form) whose two sides were trained: its two keys, each side's cross-fitted runs
    by seed, the seeds both have, and the study's metric; `loaded`: {condition: {variant: trained variant}}."""
    by_key = {f"{name}/{condition}" if condition else name: variant
              for condition, variants in loaded.items() for name, variant in variants.items()}
    for first, second in cure_pairs(pairs, list(loaded)):
        if first in by_key and second in by_key:
            ours, theirs = ({run["seed"]: run for run in selection.held_out_runs(by_key[key])} for key in (first, second))
            yield first, second, ours, theirs, sorted(ours.keys() & theirs.keys()), by_key[first]["metrics"]["metric"]


def _on_test(ours: dict[int, dict], theirs: dict[int, dict], seeds: list[int], metric: str,
             report: ReportConfig) -> dict:
    """The paired comparison of two sides' test metric (ours minus theirs) within the metric's equivalence margin."""
    return statistics.paired([ours[s]["final"]["test_metric"] for s in seeds],
                             [theirs[s]["final"]["test_metric"] for s in seeds], report.equivalence_margin[metric])


def compare_references(loaded: dict[str, dict[str, dict]], references: dict[str, str],
                       report: ReportConfig) -> dict[str, dict]:
    """{"cure vs reference": the cure's test metric minus its healthy reference's, paired by seed, and whether the
    cure reaches it: "reaches" when the interval lies above -margin (not worse by more than the equivalence margin),
    "falls short" when it lies below, else "unclear"}. Exploratory: outside every Holm family."""
    compared = {}
    for cure, reference, ours, theirs, seeds, metric in trained_pairs(loaded, references):
        e = {"cure": cure, "reference": reference, "metric": metric,
             "reference_metric": replicates.mean([theirs[s]["final"]["test_metric"] for s in seeds]),
             **_on_test(ours, theirs, seeds, metric, report)}
        e["reaches"] = reaches(e, report.equivalence_margin[metric])
        compared[f"{cure} vs {reference}"] = e
    return compared


def reaches(e: dict, margin: float) -> str:
    """Whether a cure reaches its healthy reference on the test metric (e: cure minus reference), by the interval."""
    low, high = e["diff_low"], e["diff_high"]
    if low is None or high is None:
        return "unclear"
    worst, best = (low, high) if by_metric(e["metric"]).higher_is_better else (-high, -low)  # as gains
    return "reaches" if worst > -margin else "falls short" if best < -margin else "unclear"


def compare_cures(loaded: dict[str, dict[str, dict]], cures: dict[str, str], report: ReportConfig) -> dict[str, dict]:
    """{"cure vs failure": paired comparison on the test metric (cure minus failure)} for every cure pair whose two
    sides were trained, and {"cure vs failure on <sign>": the same on the failure's own sign} for each sign the
    failure shows (SIGNS); `loaded`: {condition: {variant: trained variant}}."""
    compared = {}
    for cure, failure, ours, theirs, seeds, metric in trained_pairs(loaded, cures):
        compared[f"{cure} vs {failure}"] = {"cure": cure, "failure": failure, "metric": metric,
                                            **_on_test(ours, theirs, seeds, metric, report)}
        for sign, judge in SIGNS.items():
            found = judge(ours, theirs, seeds, report, metric)
            if found is not None:  # overfitting is in the study's metric, and so is its equivalence margin
                compared[f"{cure} vs {failure} on {sign}"] = {
                    "cure": cure, "failure": failure, "compared_on": sign, **found,
                    "metric": metric if sign == "overfitting" else sign}
    return compared


def _on_divergence(cure: dict[int, dict], failure: dict[int, dict], seeds: list[int], report: ReportConfig,
                   metric: str) -> dict | None:
    """Where the failure diverged in every seed: the share of seeds that diverged, exact McNemar test."""
    diverged = lambda run: bool(run["final"].get("diverged"))  # noqa: E731
    if not seeds or not all(diverged(failure[s]) for s in seeds):
        return None
    return statistics.paired_events([diverged(cure[s]) for s in seeds], [diverged(failure[s]) for s in seeds])


def _on_saturation(cure: dict[int, dict], failure: dict[int, dict], seeds: list[int], report: ReportConfig,
                   metric: str) -> dict | None:
    """Where the failure's top hidden layer saturated in every seed: that layer's peak saturated share."""
    peaks = [{s: top[0] for s in seeds if (top := top_saturation(side[s]["history"], report.saturated_fraction))}
             for side in (cure, failure)]
    if not (seeds and peaks[0] and all(peaks[1].get(s, 0) >= report.saturated_fraction for s in seeds)):
        return None
    common = sorted(peaks[0].keys() & peaks[1].keys())
    return statistics.paired([peaks[0][s] for s in common], [peaks[1][s] for s in common],
                             report.equivalence_margin["saturation"])


def _on_overfitting(cure: dict[int, dict], failure: dict[int, dict], seeds: list[int], report: ReportConfig,
                    metric: str) -> dict | None:
    """Where the failure overfits in every seed (train beyond held-out test by more than `report.overfit_gap`): how
    far each side's training metric is beyond its test metric, floored at 0, so that underfitting earns nothing."""
    task = by_metric(metric)

    def overfit(run: dict) -> float | None:
        train, test = run["final"].get("train_metric"), run["final"].get("test_metric")
        return None if train is None or test is None else task.score(train) - task.score(test)

    if not seeds or not all((overfit(failure[s]) or 0) > report.overfit_gap for s in seeds):
        return None
    floored = [[None if (v := overfit(side[s])) is None else max(v, 0.0) for s in seeds] for side in (cure, failure)]
    return statistics.paired(floored[0], floored[1], report.equivalence_margin[metric])


# A failure's own signs, in the order they decide its row of the concept table: a cure is judged on each the failure
# shows (beside the test metric), inside the study's Holm family.
SIGNS = {"divergence": _on_divergence, "saturation": _on_saturation, "overfitting": _on_overfitting}
