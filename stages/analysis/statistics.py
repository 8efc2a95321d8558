"""Statistics over seeds: intervals that respect the metric, paired tests, equivalence, Holm's correction."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from stages.common.numbers import round_sig

LEVEL = 0.95  # every interval and test: 95%, two-sided
POWER = 0.8  # the power at which the smallest detectable effect is stated


def _present(values: Sequence[float | None]) -> np.ndarray:
    return np.array([v for v in values if v is not None], dtype=float)


def wilson(share: float, n: int) -> tuple[float, float]:
    """Wilson's 95% interval of one accuracy measured on n examples; always inside [0, 1]."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(round(share * n), n, alpha=1 - LEVEL, method="wilson")
    return round_sig(float(low)), round_sig(float(high))


def t_interval(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    """The 95% t-interval of the mean over seeds (regression errors); (None, None) below two values."""
    data = _present(values)
    if len(data) < 2:
        return None, None
    half = _t_half_width(data)
    return round_sig(data.mean() - half), round_sig(data.mean() + half)


def _t_half_width(data: np.ndarray) -> float:
    return float(stats.t.ppf(0.5 + LEVEL / 2, len(data) - 1) * data.std(ddof=1) / math.sqrt(len(data)))


def mean_interval(values: Sequence[float | None], n_examples: int | None) -> tuple[float | None, float | None]:
    """95% t-interval of the mean over seeds; for accuracy (n_examples given) clipped to [0, 1], and for a single
    seed Wilson's interval over its n test examples."""
    data = _present(values)
    if n_examples is not None and len(data) == 1:
        return wilson(float(data[0]), n_examples)
    low, high = t_interval(data)
    if n_examples is None or low is None:
        return low, high
    return max(low, 0.0), min(high, 1.0)


def paired(values: Sequence[float | None], baseline: Sequence[float | None], margin: float) -> dict:
    """A variant against the baseline, seed by seed (both trained on the same seeds: same data order, and the same
    initial weights where the architectures agree): the mean of the per-seed differences with its paired 95%
    t-interval (the interval of the paired t-test, so the two agree), the paired t-test's p, TOST's p for equivalence
    within ±margin, and the smallest difference this many seeds detects at 80% power."""
    pairs = [(a, b) for a, b in zip(values, baseline) if a is not None and b is not None]
    result = {"diff_vs_baseline": None, "diff_low": None, "diff_high": None, "p_vs_baseline": None,
              "p_equivalence": None, "detectable_effect": None, "paired_seeds": len(pairs)}
    if not pairs:
        return result
    diffs = np.array([a - b for a, b in pairs], dtype=float)
    result["diff_vs_baseline"] = round_sig(float(diffs.mean()))
    if len(pairs) < 2:
        return result
    half = _t_half_width(diffs)
    spread = float(diffs.std(ddof=1))
    result.update(diff_low=round_sig(float(diffs.mean()) - half), diff_high=round_sig(float(diffs.mean()) + half),
                  diff_std=round_sig(spread),
                  p_vs_baseline=round_sig(_paired_t(diffs, spread)), p_equivalence=round_sig(tost(diffs, margin)),
                  detectable_effect=round_sig(detectable_effect(spread, len(pairs))))
    return result


def paired_events(events: Sequence[bool], baseline: Sequence[bool]) -> dict:
    """A variant against the baseline on an event per seed (a run diverged): the difference in the share of seeds
    with the event, its 95% interval (Clopper-Pearson at 97.5% for each share, so at least 95% for the difference
    whatever the pairing), and the exact McNemar test on the seeds where the two disagree. No equivalence test."""
    pairs = list(zip(events, baseline))
    result = {"diff_vs_baseline": None, "diff_low": None, "diff_high": None, "p_vs_baseline": None,
              "p_equivalence": None, "detectable_effect": None, "paired_seeds": len(pairs)}
    if len(pairs) < 2:
        return result
    ours, theirs = (sum(bool(x) for x in side) for side in zip(*pairs))
    only_ours, only_theirs = (sum(1 for a, b in pairs if a and not b), sum(1 for a, b in pairs if b and not a))
    (low_a, high_a), (low_b, high_b) = (stats.binomtest(k, len(pairs)).proportion_ci(1 - (1 - LEVEL) / 2, "exact")
                                        for k in (ours, theirs))
    discordant = only_ours + only_theirs
    result.update(discordant=[only_ours, only_theirs],
                  diff_vs_baseline=round_sig((ours - theirs) / len(pairs)), diff_low=round_sig(low_a - high_b),
                  diff_high=round_sig(high_a - low_b),
                  p_vs_baseline=round_sig(stats.binomtest(only_ours, discordant).pvalue) if discordant else 1.0)
    return result


def _paired_t(diffs: np.ndarray, spread: float) -> float:
    """Two-sided p of the paired t-test; with no spread at all, 1 for no difference and 0 for any."""
    if spread == 0:
        return 1.0 if diffs.mean() == 0 else 0.0
    return float(stats.ttest_1samp(diffs, 0.0).pvalue)


def tost(diffs: Sequence[float], margin: float) -> float:
    """p of the two one-sided tests that the mean paired difference lies inside (-margin, +margin)."""
    diffs = np.asarray(diffs, dtype=float)
    spread = float(diffs.std(ddof=1)) if len(diffs) > 1 else 0.0
    if spread == 0:  # every seed gave the same difference: inside the margin or not, with certainty
        return 0.0 if abs(diffs.mean()) < margin else 1.0
    from statsmodels.stats.weightstats import DescrStatsW

    return float(DescrStatsW(diffs).ttost_mean(-margin, margin)[0])


def detectable_effect(spread: float, n: int) -> float:
    """The smallest mean paired difference a two-sided paired t-test at 5% finds with 80% power, given the
    seed-to-seed spread of the differences."""
    from statsmodels.stats.power import TTestPower

    return float(TTestPower().solve_power(nobs=n, alpha=1 - LEVEL, power=POWER)) * spread


def power_at_observed(test: dict, alpha: float) -> float | None:
    """The chance that a rerun on as many new seeds finds the same direction with a two-sided test at level alpha, if
    the true effect were the observed one: the paired t-test's power at the observed mean/SD of the differences, or for an event
    (McNemar) the exact chance over the observed shares of seeds that flip each way. None without a test."""
    n = test.get("paired_seeds") or 0
    if test.get("p_vs_baseline") is None or n < 2:
        return None
    if "discordant" in test:
        return round_sig(_event_power(n, *test["discordant"], alpha))
    mean, spread = test["diff_vs_baseline"], test.get("diff_std")
    if spread is None:
        return None
    if spread == 0:
        return 1.0 if mean != 0 else 0.0
    from statsmodels.stats.power import TTestPower

    # two-sided at alpha, counted in the observed direction only: the one-sided power at alpha / 2
    return round_sig(float(TTestPower().power(effect_size=abs(mean) / spread, nobs=n, alpha=alpha / 2,
                                              alternative="larger")))


def equivalence_power(test: dict, margin: float, alpha: float) -> float | None:
    """The chance that a rerun on as many new seeds shows equivalence within ±margin by TOST at level alpha, if the
    true mean and spread of the paired differences were the observed ones (the normal approximation of TOST's power,
    with the t quantile; Chow, Shao & Wang 2008, 3.2). None without a spread."""
    n, mean, spread = test.get("paired_seeds") or 0, test.get("diff_vs_baseline"), test.get("diff_std")
    if n < 2 or mean is None or spread is None:
        return None
    if spread == 0:
        return 1.0 if abs(mean) < margin else 0.0
    return round_sig(_tost_power(abs(mean), spread, n, margin, alpha))


def _tost_power(mean: float, spread: float, n: int, margin: float, alpha: float) -> float:
    se, critical = spread / math.sqrt(n), float(stats.t.ppf(1 - alpha, n - 1))
    return max(0.0, float(stats.norm.cdf((margin - mean) / se - critical)
                          + stats.norm.cdf((margin + mean) / se - critical)) - 1)


def seeds_for_power(test: dict, alpha: float, power: float, margin: float | None = None) -> int | None:
    """The fewest seeds at which the observed mean and spread of the paired differences would give this power: for
    the paired t-test in the observed direction, or for TOST within ±margin where a margin is given. None where no
    number of seeds up to 1,000 would (an equivalence outside its margin), or without a spread."""
    mean, spread = test.get("diff_vs_baseline"), test.get("diff_std")
    if mean is None or not spread or (margin is None and mean == 0):
        return None
    if margin is not None:
        if abs(mean) >= margin:
            return None
        return next((n for n in range(2, 1001) if _tost_power(abs(mean), spread, n, margin, alpha) >= power), None)
    from statsmodels.stats.power import TTestPower

    needed = TTestPower().solve_power(effect_size=abs(mean) / spread, alpha=alpha / 2, power=power,
                                      alternative="larger")
    return int(math.ceil(float(needed))) if needed <= 1000 else None


def _event_power(n: int, one_way: int, other_way: int, alpha: float) -> float:
    """P(the exact McNemar test is below alpha, in the observed direction) for n seeds that flip one way with
    probability one_way/n and the other with other_way/n."""
    if one_way < other_way:
        one_way, other_way = other_way, one_way
    shares = [one_way / n, other_way / n, 1 - (one_way + other_way) / n]
    chance = 0.0
    for a in range(n + 1):
        for b in range(n + 1 - a):
            if a > b and stats.binomtest(a, a + b).pvalue < alpha:
                chance += float(stats.multinomial.pmf([a, b, n - a - b], n, shares))
    return chance


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of a family of p-values (None entries are left out and stay None)."""
    from statsmodels.stats.multitest import multipletests

    present = [i for i, p in enumerate(p_values) if p is not None]
    adjusted: list[float | None] = [None] * len(p_values)
    if present:
        for i, p in zip(present, multipletests([p_values[i] for i in present], method="holm")[1]):
            adjusted[i] = round_sig(float(p))
    return adjusted


def log_slope(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Least-squares slope of log(y) against log(x), over the positive pairs."""
    pairs = [(a, b) for a, b in zip(x, y) if a and b and a > 0 and b > 0]
    if len(pairs) < 2:
        return None
    lx, ly = np.log([p[0] for p in pairs]), np.log([p[1] for p in pairs])
    return round_sig(float(np.polyfit(lx, ly, 1)[0]))
