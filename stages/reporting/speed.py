"""Verdicts on training speed: optimizers on the training loss and their learning rates, and batch sizes with the
gradient noise they carry."""
from __future__ import annotations

import math

from stages.config import ReportConfig, StudyConfig, StudyReport
from stages.reporting.formatting import fmt, interval, span
from stages.reporting.lookup import Summary, in_role, score, split
from stages.reporting.wording import claim, said


def optimizer_speed(summary: Summary, cfg: ReportConfig, findings: dict, spec: StudyConfig,
                    plan: StudyReport) -> list[str]:
    """The fastest on the training loss against the claim of the `claimed_fastest` role, the first to the target,
    the best learning rates and how forgiving the `adaptive` role's methods are against the rest."""
    entries = split(summary)[""]
    lines = []
    claimed, note = in_role(plan, "claimed_fastest", entries)
    if all(e.get("compared_on") == "train_loss_auc" for e in entries.values()):
        auc = {n: e["train_loss_auc"] for n, e in entries.items() if e.get("train_loss_auc") is not None}
        lowest = min(auc, key=auc.get)
        resolved = [n for n, e in entries.items() if e.get("verdict") == "better"]
        line = (f"Training speed, each optimizer at the learning rate that minimized its own mean training loss "
                f"over the epochs (area under the curve): lowest mean **{lowest}** ({fmt(auc[lowest])}). "
                + (f"Faster than {plan.baseline} after Holm's correction: {', '.join(resolved)}."
                   if resolved else f"No optimizer is resolved faster than {plan.baseline} with these seeds."))
        if claimed and claimed[0] in entries:
            e = entries[claimed[0]]
            line += (f" Kingma & Ba's claim that {claimed[0]} lowers the training cost fastest: "
                     f"{claim(e)} against the baseline ({said(e, cfg, claimed[0])})"
                     + ("; it also has the lowest mean." if lowest == claimed[0] else
                        f"; {lowest}, not {claimed[0]}, has the lowest mean."))
        lines.append(line)
    if note:
        lines.append(note)
    reached = {n: e["epochs_to_target"] for n, e in entries.items() if e["epochs_to_target"] is not None}
    if reached:
        first = min(reached, key=reached.get)
        lines.append(f"First to the target validation accuracy: **{first}**, median {fmt(reached[first])} epochs "
                     f"(a run that never got there counts as never); not reached by half of the runs or more: "
                     f"{', '.join(sorted(set(entries) - set(reached))) or 'none'}.")
    rates = {n: e.get("best_learning_rate") for n, e in entries.items() if e.get("best_learning_rate")}
    if rates:
        spread = math.log10(max(rates.values()) / min(rates.values()))
        lines.append("Best learning rates: " + ", ".join(f"{n} {fmt(r)}" for n, r in rates.items())
                     + f"; they span {fmt(spread, 2)} decades"
                     + (" (as Wilson et al. report, tuned rates differ by orders of magnitude)." if spread >= 1
                        else " (less than the orders of magnitude Wilson et al. report)."))
    widths = {n: e["lr_good_range_decades"] for n, e in entries.items() if e.get("lr_good_range_decades") is not None}
    adaptive_names, note = in_role(plan, "adaptive", entries)
    adaptive = [n for n in widths if n in adaptive_names]
    plain = [n for n in widths if n not in adaptive_names]

    def average(names: list[str]) -> str:  # the mean of the lower bounds to the mean of the upper ones
        return span(sum(widths[n] for n in names) / len(names),
                    None if any(entries[n].get("lr_good_range_max_decades") is None for n in names)
                    else sum(entries[n]["lr_good_range_max_decades"] for n in names) / len(names))

    if adaptive and plain:
        lines.append(f"Range of learning rates within {cfg.lr_tolerance} of each optimizer's best selection score, on "
                     f"each one's own grid, in decades: {good_ranges(entries)}; {average(adaptive)} on average for the "
                     f"adaptive methods ({', '.join(adaptive_names)}) vs {average(plain)} for the SGD family "
                     "(descriptive, no test; a grid's spacing moves each range within its bounds, so averages whose "
                     "bounds overlap do not order the families). "
                     "The literature makes no general claim either way (Schmidt et al. 2021).")
    if note:
        lines.append(note)
    return lines


def good_ranges(entries: Summary) -> str:
    """Each optimizer's range of good learning rates in decades, between the good rates at its ends and the first
    rates outside it; "≥" where it reaches an end of its grid (with what these mean, once)."""
    ranges = {n: e for n, e in entries.items() if e.get("lr_good_range_decades") is not None}
    text = ", ".join(f"{n} {span(e['lr_good_range_decades'], e.get('lr_good_range_max_decades'))}"
                     for n, e in ranges.items())
    text += " (from the outermost good rates to the first rates outside"
    if any(e.get("lr_good_range_at_edge") for e in ranges.values()):
        text += "; ≥: the range reaches an end of the grid, so it may be wider"
    return text + ")"


def batch_noise(summary: Summary, cfg: ReportConfig, findings: dict, spec: StudyConfig,
                plan: StudyReport) -> list[str]:
    """The gradient-noise slope across batch sizes against the finite-population prediction, and the best batch."""
    slope = findings.get("all", {}).get("noise_slope")
    lines = []
    if slope and slope.get("slope") is not None and slope.get("low") is not None:
        predicted = slope["predicted"]
        inside = predicted is not None and slope["low"] <= predicted <= slope["high"]
        lines.append(f"Gradient-noise variance at initialization scales as batch size^{fmt(slope['slope'], 3)} "
                     f"{interval(slope['low'], slope['high'])} (95% t-interval over {slope['seeds']} seeds, batch "
                     f"sizes {', '.join(str(b) for b in slope['batches'])}). For batches drawn without replacement "
                     f"from the {slope['population']}-example probe set, McCandlish et al.'s (2018) tr(Σ)/B with the "
                     f"finite-population factor (N - B)/(N - 1) predicts a slope of {fmt(predicted, 3)} over these "
                     "sizes: " + ("the interval holds it." if inside else "the interval excludes it."))
    entries = split(summary)[""]
    best = max(entries, key=lambda n: score(entries[n]))
    lines.append(f"For the same number of epochs, **{best}** reached the best validation accuracy; smaller "
                 "batches take more steps per epoch, larger ones fewer but less noisy steps (see the per-step chart).")
    return lines
