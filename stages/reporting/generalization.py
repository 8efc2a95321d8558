"""Verdicts on generalization: robust losses on contaminated targets, what penalties close of the train-validation
gap, and how net size and data size move it."""
from __future__ import annotations

from stages.config import ReportConfig, StudyConfig, StudyReport
from stages.reporting.formatting import fmt
from stages.reporting.lookup import Summary, in_role, split, summary_variants


def robust_losses(summary: Summary, cfg: ReportConfig, findings: dict, spec: StudyConfig,
                  plan: StudyReport) -> list[str]:
    """Per condition, the baseline loss's test MAE against the others'; where outliers contaminate the training
    targets, whether a robust loss kept the error lower, as Huber predicts."""
    lines = []
    base = plan.baseline
    for condition, entries in split(summary).items():
        reference = entries.get(base, {}).get("test_metric")
        robust = {n: e for n, e in entries.items() if n != base and e["test_metric"] is not None}
        if reference is None or not robust:
            continue
        contaminated = spec.conditions.get(condition, {}).get("outlier_share", spec.set.get("outlier_share", 0)) > 0
        line = (f"{condition}: test MAE of {base} {fmt(reference)} vs "
                + ", ".join(f"{n} {fmt(e['test_metric'])}" for n, e in robust.items()) + ".")
        if contaminated:  # Huber's result is about contaminated data: only that condition tests it
            better = [n for n, e in robust.items() if e["verdict"] == "better"]
            line += (f" With outliers in the training targets, {', '.join(better)} kept the test error lower "
                     "(adjusted p below the threshold), as Huber (1964) predicts for contaminated data."
                     if better else " With outliers in the training targets, no robust loss resolved a lower test "
                                    "error than " + base + " with these seeds.")
        lines.append(line)
    return lines


def gap_closed(gap: float, base: float) -> str:
    """A regularized net's generalization gap and the share of the unregularized `base` gap it closed; a share
    can only run from "none" to "all", so a gap that grew or reversed is said so instead of as a share."""
    if gap < 0:
        return f"{fmt(gap)} (reversed)"
    if gap > base:
        return f"{fmt(gap)} (wider than without)"
    return f"{fmt(gap)} ({fmt(100 * (1 - gap / base), 2)}% of the gap closed)"


def penalties(summary: Summary, cfg: ReportConfig, findings: dict, spec: StudyConfig,
              plan: StudyReport) -> list[str]:
    """Per condition, the share of the baseline's gap each regularizer closed, and whether the `l1_penalty` role made
    the net sparser than the `l2_penalty` role."""
    lines, notes = [], set()
    for condition, entries in split(summary).items():
        where = f"{condition}: " if condition else ""
        base = entries.get(plan.baseline, {}).get("generalization_gap")
        if base:
            gaps = {n: e["generalization_gap"] for n, e in entries.items()
                    if n != plan.baseline and e.get("generalization_gap") is not None}
            lines.append(f"{where}unregularized gap between train and validation accuracy: {fmt(base)}"
                         + (" (overfitting)" if base > cfg.overfit_gap else "") + ". With a regularizer: "
                         + ", ".join(f"{n} {gap_closed(gap, base)}" for n, gap in gaps.items())
                         + (" (reversed: validation accuracy above training accuracy, so the whole gap closed and "
                            "more)" if any(gap < 0 for gap in gaps.values()) else "")
                         + " (descriptive; the test accuracy comparisons are in the table).")
        (l1_names, l1_note), (l2_names, l2_note) = in_role(plan, "l1_penalty", entries), in_role(plan, "l2_penalty", entries)
        notes.update(note for note in (l1_note, l2_note) if note)
        if l1_names and l2_names:
            l1, l2 = entries[l1_names[0]].get("weight_sparsity"), entries[l2_names[0]].get("weight_sparsity")
            if l1 is not None and l2 is not None:
                lines.append(f"{where}weights below 1% of their layer's largest: {l1_names[0]} {fmt(100 * l1, 3)}% vs "
                             f"{l2_names[0]} {fmt(100 * l2, 3)}%" + (" — L1 drives weights to zero, as expected."
                                                                     if l1 > l2 else
                                                                     " — L1 did not make the net sparser than L2 here."))
    return lines + sorted(notes)


def capacity(summary: Summary, cfg: ReportConfig, findings: dict, spec: StudyConfig,
             plan: StudyReport) -> list[str]:
    """Per condition, who overfits and who underfits; with noisy labels, how many the best fit memorized; whether the
    `largest` role's net had the smallest gap at every clean data size."""
    lines = []
    for condition, entries in split(summary).items():
        over = [n for n, e in entries.items() if (e.get("generalization_gap") or 0) > cfg.overfit_gap]
        low = min(entries, key=lambda n: entries[n].get("train_metric") or 0)
        lines.append(f"{condition}: overfitting (gap above {cfg.overfit_gap}): {', '.join(over) or 'none'}; "
                     f"lowest training accuracy (most underfit): {low} ({fmt(entries[low].get('train_metric'))}).")
        if spec.conditions.get(condition, {}).get("label_noise"):
            share = spec.conditions[condition]["label_noise"]
            fits = {n: e.get("train_metric") for n, e in entries.items() if e.get("train_metric") is not None}
            best = max(fits, key=fits.get) if fits else None
            if best is not None:
                lines.append(f"{condition}: with {fmt(100 * share, 2)}% of the training labels wrong, {best} fitted "
                             f"{fmt(100 * fits[best], 3)}% of the noisy training labels (a net that learned only the "
                             f"true classes would fit about {fmt(100 * (1 - share), 2)}%); its validation accuracy "
                             f"on clean labels: {fmt(entries[best].get('val_metric'))}.")
    largest, note = in_role(plan, "largest", summary_variants(summary))
    clean = {c: entries for c, entries in split(summary).items() if not spec.conditions.get(c, {}).get("label_noise")}
    if largest and clean:
        smallest_gap = [c for c, entries in clean.items() if entries[largest[0]].get("generalization_gap") is not None
                        and entries[largest[0]]["generalization_gap"] <= min(
                            e["generalization_gap"] for e in entries.values() if e.get("generalization_gap") is not None)]
        lines.append(f"With clean labels the largest net ({largest[0]}) had the smallest gap under "
                     f"{len(smallest_gap)} of {len(clean)} data sizes (descriptive)"
                     + (": bigger was better, as Zhang et al. (2017) lead one to expect of over-parameterized nets."
                        if len(smallest_gap) == len(clean) else "."))
    return lines + ([note] if note else [])
