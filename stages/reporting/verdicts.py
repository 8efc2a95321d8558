"""Verdicts: sentences computed from a study's summary with thresholds from params (no typed numbers)."""
from __future__ import annotations

import math
from collections.abc import Callable

from stages.analysis.study_summary import margin_key
from stages.catalog.tasks import by_metric
from stages.common.registry import Registry
from stages.config import ReportConfig, StudyConfig, StudyReport

Summary = dict[str, dict]  # "variant" or "variant/condition" -> entry


def fmt(value: float | None, digits: int = 3) -> str:
    """A number as the report prints it; None as 'n/a'."""
    if value is None:
        return "n/a"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e4):
        return f"{value:.{max(digits - 1, 1)}e}"
    return f"{value:.{digits}g}"


def split(summary: Summary) -> dict[str, Summary]:
    """{condition: {variant: entry}}; a study without conditions has the single condition ''."""
    groups: dict[str, Summary] = {}
    for key, entry in summary.items():
        variant, _, condition = key.partition("/")
        groups.setdefault(condition, {})[variant] = entry
    return groups


def in_role(plan: StudyReport, role: str, entries: Summary) -> tuple[list[str], str | None]:
    """The variants params.yaml gives `role` that were trained, and a sentence naming those that were not."""
    names = plan.roles.get(role, [])
    if not names:
        return [], f"No verdict on the `{role}` role: params.yaml gives it no variant."
    missing = [name for name in names if name not in entries]
    note = None
    if missing:
        note = (f"No verdict on the `{role}` role: {', '.join(missing)} {'was' if len(missing) == 1 else 'were'} "
                "not trained in this run.")
    return [name for name in names if name in entries], note


def _better(entry: dict, key: str = "val_metric") -> float:
    """An entry's metric on a scale where larger is better (-inf when missing), for max()."""
    value = entry.get(key)
    return -math.inf if value is None else by_metric(entry["metric"]).score(value)


def interval(low: float | None, high: float | None) -> str:
    """[low, high] as the report prints an interval."""
    return f"[{fmt(low)}, {fmt(high)}]" if low is not None and high is not None else "n/a"


def comparison(name: str, e: dict, cfg: ReportConfig) -> str:
    """One variant against the baseline, in the words its adjusted tests support."""
    if e.get("verdict") in ("better", "worse"):
        return (f"{name} {e['verdict']} by {fmt(e['diff_vs_baseline'])} {interval(e['diff_low'], e['diff_high'])} "
                f"(adjusted p = {fmt(e['p_adjusted'], 2)})")
    if e.get("verdict") == "equivalent":
        margin = cfg.equivalence_margin[margin_key(e)]
        return f"{name} equivalent within ±{fmt(margin)} (adjusted TOST p = {fmt(e['p_equivalence_adjusted'], 2)})"
    if not e.get("paired_seeds"):
        return f"{name}: no comparison (no finite test metric: {e['diverged_runs']} of {e['runs']} runs diverged)"
    return (f"{name}: not resolved with {e.get('paired_seeds', 0)} seeds (difference {fmt(e['diff_vs_baseline'])} "
            f"{interval(e['diff_low'], e['diff_high'])}; the smallest this design detects is "
            f"±{fmt(e.get('detectable_effect'))})")


def general(summary: Summary, cfg: ReportConfig, baseline: str) -> list[str]:
    """Per condition: the best variant on test, and each variant against the baseline as its tests support."""
    lines = []
    for condition, entries in split(summary).items():
        where = f" ({condition})" if condition else ""
        best = max(entries, key=lambda name: _better(entries[name], "test_metric"))
        e = entries[best]
        on_loss = e.get("compared_on") == "train_loss_auc"
        lines.append(f"Best mean on the test split{where}: **{best}**, {e['metric']} {fmt(e['test_metric'])} "
                     f"{interval(e['test_low'], e['test_high'])} (95% interval; a ranking, not a test"
                     + ("; the comparisons below are on the training loss)." if on_loss else
                        ": the paired comparisons below are the tests)."))
        compared = [comparison(name, x, cfg) for name, x in entries.items() if name != baseline]
        if compared:
            on = ("mean training loss over the epochs" if next(iter(entries.values())).get("compared_on") ==
                  "train_loss_auc" else "test")
            lines.append(f"Against {baseline}{where} on {on}, paired by seed: " + "; ".join(compared) + ".")
    return lines


def optimizers(summary: Summary, cfg: ReportConfig, findings: dict, spec: StudyConfig,
               plan: StudyReport) -> list[str]:
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
                     + ("supported against the baseline" if e["verdict"] == "better" else
                        "not supported against the baseline" if e["verdict"] in ("worse", "equivalent") else
                        "not resolved against the baseline")
                     + f" ({comparison(claimed[0], e, cfg)})"
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


def span(low: float, high: float | None) -> str:
    """A range's width between its bounds: "0.3-0.6", or "≥0.3" with no upper bound."""
    return f"≥{fmt(low, 2)}" if high is None else f"{fmt(low, 2)}-{fmt(high, 2)}"


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


def gradient_noise(summary: Summary, cfg: ReportConfig, findings: dict, spec: StudyConfig,
                   plan: StudyReport) -> list[str]:
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
    best = max(entries, key=lambda n: _better(entries[n]))
    lines.append(f"For the same number of epochs, **{best}** reached the best validation accuracy; smaller "
                 "batches take more steps per epoch, larger ones fewer but less noisy steps (see the per-step chart).")
    return lines


def _flags(summary: Summary, cfg: ReportConfig) -> dict[str, list[str]]:
    flags: dict[str, list[str]] = {"vanishing": [], "exploding": [], "saturated": [], "dead": [], "symmetric": [],
                                   "diverged": []}
    for key, e in summary.items():
        ratio = e.get("grad_norm_first_over_last_init")
        if ratio is not None and ratio < cfg.vanishing_ratio:
            flags["vanishing"].append(f"{key} ({fmt(ratio)})")
        if ratio is not None and ratio > cfg.exploding_ratio:
            flags["exploding"].append(f"{key} ({fmt(ratio)})")
        saturated = max(filter(None, [e.get("saturated_fraction_init"), e.get("saturated_fraction")]), default=None)
        if saturated is not None and saturated > cfg.saturated_fraction:
            flags["saturated"].append(f"{key} ({fmt(saturated, 2)})")
        dead = max(filter(None, [e.get("dead_fraction_init"), e.get("dead_fraction")]), default=None)
        if dead is not None and dead > cfg.dead_fraction:
            flags["dead"].append(f"{key} ({fmt(dead, 2)})")
        if e.get("symmetric_layers_init"):
            flags["symmetric"].append(f"{key} ({e['symmetric_layers_init']} layers)")
        if e.get("diverged_runs"):
            flags["diverged"].append(f"{key} ({e['diverged_runs']} of {e['runs']} runs; their final diagnostics are "
                                     "left out)")
    return flags


def deep_nets(summary: Summary, cfg: ReportConfig, findings: dict, spec: StudyConfig,
              plan: StudyReport) -> list[str]:
    """Activations and initializers: vanishing, exploding, saturated and dead, by threshold."""
    flags = _flags(summary, cfg)
    text = {
        "vanishing": f"Vanishing gradients at initialization (first/last hidden layer gradient norm below "
                     f"{cfg.vanishing_ratio})",
        "exploding": f"Exploding gradients at initialization (ratio above {fmt(cfg.exploding_ratio)})",
        "saturated": f"Saturated units (share above {cfg.saturated_fraction})",
        "dead": f"Dead ReLU units (share above {cfg.dead_fraction}, symmetric layers left out)",
        "symmetric": "Symmetric layers at initialization (every unit identical, so none can specialize: not the same "
                     "as dead)",
        "diverged": "Diverged runs of the chosen setting",
    }
    lines = [f"{text[k]}: {', '.join(v) if v else 'none'}." for k, v in flags.items()]
    stuck = [k for k, e in summary.items() if e.get("epochs_to_target") is None and e.get("val_metric") is not None
             and e.get("val_metric") < 0.5]
    if stuck:
        lines.append(f"Failed to learn (validation accuracy below 0.5): {', '.join(stuck)}.")
    return lines


def regression_losses(summary: Summary, cfg: ReportConfig, findings: dict, spec: StudyConfig,
                      plan: StudyReport) -> list[str]:
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


def regularization(summary: Summary, cfg: ReportConfig, findings: dict, spec: StudyConfig,
                   plan: StudyReport) -> list[str]:
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


def initializers(summary: Summary, cfg: ReportConfig, findings: dict, spec: StudyConfig,
                 plan: StudyReport) -> list[str]:
    """Deep-net flags, then the cures: proper scaling against the failure controls, and clipping."""
    lines = deep_nets(summary, cfg, findings, spec, plan)
    for condition, entries in split(summary).items():
        glorot, he = in_role(plan, "glorot", entries)[0], in_role(plan, "he", entries)[0]
        activation = spec.conditions.get(condition, {}).get("activation", spec.set.get("activation"))
        if glorot and he:
            g, h = entries[glorot[0]], entries[he[0]]
            line = (f"{condition}: test accuracy Glorot {fmt(g['test_metric'])} vs He {fmt(h['test_metric'])}; "
                    + comparison(he[0], h, cfg) + " against the baseline.")
            if activation == "relu":  # He et al.'s finding is about plain ReLU nets
                line += (" He et al. saw plain ReLU nets stall with Glorot-style scaling only at about 30 layers "
                         "(at 22 both trained); the init_at_depth study trains 30.")
            lines.append(line)
        clipping = {cure: failure for cure, failure in plan.cures.items() if cure in plan.roles.get("clipped", [])}
        for cure, failure in clipping.items():
            raw, clipped = entries.get(failure), entries.get(cure)
            if not (raw and clipped):
                lines.append(f"{condition}: no verdict on the cure {cure} for {failure}: "
                             f"{cure if not clipped else failure} was not trained in this run.")
                continue
            lines.append(f"{condition}: {failure} without the cure: {raw['diverged_runs']} diverged runs, "
                         f"accuracy {fmt(raw['val_metric'])}; with it ({cure}): {clipped['diverged_runs']} "
                         f"diverged, accuracy {fmt(clipped['val_metric'])}. "
                         + ("Nothing diverged, so the cure had nothing to stop." if raw["diverged_runs"] == 0 else
                            "The cure stops the divergence but does not repair the scale of the weights."
                            if clipped["diverged_runs"] < raw["diverged_runs"]
                            else "The cure did not prevent divergence here."))
    notes = {note for role in ("glorot", "he") if (note := in_role(plan, role, summary_variants(summary))[1])}
    return lines + sorted(notes)


def summary_variants(summary: Summary) -> Summary:
    """Every variant of a summary, under any condition (the entries of its first condition stand for each)."""
    return {key.partition("/")[0]: entry for key, entry in summary.items()}


VERDICTS: Registry[Callable[[Summary, ReportConfig, dict, StudyConfig, StudyReport], list[str]]] = Registry("study", {
    "optimizers": optimizers, "gradient_noise": gradient_noise, "activations": deep_nets,
    "initializers": initializers, "regression_losses": regression_losses, "regularization": regularization,
    "capacity": capacity,
})


def verdicts(study: str, summary: Summary, cfg: ReportConfig, findings: dict, spec: StudyConfig,
             plan: StudyReport) -> list[str]:
    """The study's own verdicts (where it has any), its cures, and the general ones."""
    own = VERDICTS.get(study)(summary, cfg, findings, spec, plan) if study in VERDICTS else []
    return own + cures(findings.get("cures", {}), cfg) + general(summary, cfg, plan.baseline)


def cure_effect(e: dict, cfg: ReportConfig) -> str:
    """A cure against its failure on test, in the words its adjusted tests support."""
    if e.get("verdict") in ("better", "worse"):
        return (f"{e['verdict']}: difference {fmt(e['diff_vs_baseline'])} {interval(e['diff_low'], e['diff_high'])} "
                f"(adjusted p = {fmt(e['p_adjusted'], 2)})")
    if not e.get("paired_seeds"):
        return "no comparison: no seed has a finite value on both sides (every failure run diverged)"
    if e.get("verdict") == "equivalent":
        return (f"equivalent within ±{cfg.equivalence_margin[e['metric']]} (difference {fmt(e['diff_vs_baseline'])} "
                f"{interval(e['diff_low'], e['diff_high'])}, adjusted TOST p = {fmt(e['p_equivalence_adjusted'], 2)})")
    return (f"not resolved with {e['paired_seeds']} seeds (difference {fmt(e['diff_vs_baseline'])} "
            f"{interval(e['diff_low'], e['diff_high'])}, adjusted p = {fmt(e['p_adjusted'], 2)})")


def cures(compared: dict[str, dict], cfg: ReportConfig) -> list[str]:
    """One line per cure pair of params.yaml that was trained: the cure's test metric against the failure's."""
    return [f"Cure {e['cure']} against {e['failure']} ({measured(e)}, paired by seed): {cure_effect(e, cfg)}."
            for e in compared.values()]


def measured(e: dict) -> str:
    """What a comparison measures, in words."""
    return {"saturation": "the top hidden layer's peak saturated share",
            "train_loss_auc": "training loss averaged over the epochs",
            "divergence": "share of runs that diverged",
            "overfitting": f"overfitting: train minus test {e['metric']}, floored at 0"}.get(
        e.get("compared_on"), f"test {e['metric']}")


def foundations(summary: dict, cfg: ReportConfig) -> list[str]:
    """The opening study's verdicts: the perceptron against its bound, XOR, and the probes."""
    lines = []
    separable, xor = summary["perceptron"]["separable"], summary["perceptron"]["xor"]
    runs = separable["converged_runs"]
    if separable["bound"] is not None:
        within = separable["updates_max"] <= separable["bound"]
        lines.append(f"On the separable set the perceptron converged in {runs} of {separable['runs']} runs after at most "
                     f"{separable['updates_max']} updates; Novikoff's bound (R/γ)² is {fmt(separable['bound'])} "
                     f"(R = {fmt(separable['radius'])}, γ = {fmt(separable['margin'])})"
                     + (", and the count stays within it, as the theorem guarantees." if within else
                        ": the count exceeds it, which the theorem forbids; the margin estimate is wrong."))
    lines.append(f"On XOR no line separates the classes (best margin {fmt(xor['margin'])}): the perceptron "
                 f"converged in {xor['converged_runs']} runs and was still making mistakes after "
                 f"{xor['epochs_max']} epochs ({xor['updates_max']} updates)"
                 + (f"; {xor['cycled_runs']} runs returned to an earlier weight vector, a cycle." if xor["cycled_runs"]
                    else "; its weights wander in a bounded region without settling (the perceptron cycling "
                         "theorem), though on real-valued data they never repeat exactly."))
    neuron, mlp = summary["neuron"], summary["mlp"]
    lines.append(f"A single sigmoid neuron trained by gradient descent: XOR test accuracy "
                 f"{fmt(neuron['xor']['test_accuracy'])}, moons {fmt(neuron['moons']['test_accuracy'])}; "
                 f"its boundary is still a line. One hidden layer: XOR {fmt(mlp['xor']['test_accuracy'])}, "
                 f"moons {fmt(mlp['moons']['test_accuracy'])}.")
    probe, gain = summary["probe"], summary["probe_gain"]
    last = gain["layer"]
    finding = {"better": "Training made the last hidden layer more linearly separable than the raw input",
               "worse": "The trained last hidden layer is less linearly separable than the raw input",
               "equivalent": "Training left the last hidden layer as linearly separable as the raw input",
               }.get(gain["verdict"], "Not resolved whether training made the last hidden layer more linearly "
                                      "separable than the raw input")
    lines.append(f"Linear probes on the 10-class set (validation accuracy): raw input {fmt(probe['input'])}; {last} at "
                 f"initialization {fmt(probe[last]['init'])}, after training {fmt(probe[last]['final'])}. {finding}: "
                 + comparison(f"{last} vs input", gain, cfg) + ".")
    moons, moons_gain = mlp["moons"]["probe"], summary["probe_gain_moons"]
    lines.append(f"On the two moons, where no line separates the raw input, a linear probe (test accuracy) reaches "
                 f"{fmt(moons['input'])} on the input and {fmt(moons['hidden_1']['final'])} on the trained MLP's hidden "
                 "layer: " + comparison("hidden layer vs input", moons_gain, cfg) + ". The MLP's own output unit is "
                 "such a linear read-out, so the probe shows what its hidden layer made separable, not a second "
                 "learner. Both probe tests are one Holm family.")
    calibration = summary["calibration"]
    lines.append(f"Expected calibration error of the softmax outputs on the test split: {fmt(calibration['ece'])}; "
                 f"mean confidence {fmt(calibration['mean_confidence'])} against accuracy "
                 f"{fmt(calibration['accuracy'])} ("
                 + ("calibrated on average" if abs(calibration["mean_confidence"] - calibration["accuracy"]) < 0.01
                    else "overconfident on average" if calibration["mean_confidence"] > calibration["accuracy"]
                    else "underconfident on average") + ").")
    return lines
