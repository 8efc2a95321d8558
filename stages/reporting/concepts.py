"""The table at the top of the report: every concept of the syllabus with the evidence the pipeline measured for it,
as a failure and its cure, a variant against its study's baseline, or a finding of one study."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from stages.analysis.study_summary import SIGNS, margin_key
from stages.common.registry import Registry
from stages.config import ConceptRow, Params, ReportConfig
from stages.reporting.verdicts import fmt, good_ranges, interval, measured

Row = tuple[str, str, str, str, str]  # failure evidence, cure evidence, effect [95%], adjusted p, verdict
HEAD = ["| concept | seed paper | failure or question: evidence | cure or answer: evidence | effect [95%] "
        "| p adjusted | verdict |", "|" + "---|" * 7]


def signs(e: dict, cfg: ReportConfig) -> str:
    """The failure signs an entry shows, in a few words: dead nets, a saturated top layer, vanishing or exploding
    gradients at initialization, overfitting; then its test metric."""
    words = []
    if e.get("born_dead_runs") or e.get("collapsed_runs"):
        words.append(f"born dead {e['born_dead_runs']}/{e['runs']}, constant output at the end {e['collapsed_runs']}/{e['runs']}")
    peak = e.get("top_saturation_peak")
    if peak is not None:
        recovered = e.get("top_saturation_recovered")
        words.append(f"top hidden layer saturated {fmt(peak, 2)} at its peak (median epoch "
                     f"{fmt(e.get('top_saturation_peak_epoch'))}), "
                     + ("never below " + str(cfg.saturated_fraction) if recovered is None else
                        f"below {cfg.saturated_fraction} from epoch {fmt(recovered)}"))
    ratio = e.get("grad_norm_first_over_last_init")
    if ratio is not None and not cfg.vanishing_ratio <= ratio <= cfg.exploding_ratio:
        words.append(f"first/last layer gradient ratio {fmt(ratio)} at initialization")
    if e.get("diverged_runs"):
        words.append(f"{e['diverged_runs']}/{e['runs']} runs diverged")
    gap = e.get("generalization_gap")
    if gap is not None and gap > cfg.overfit_gap:
        words.append(f"train {fmt(e['train_metric'])} vs validation {fmt(e['val_metric'])}")
    if e.get("compared_on") == "train_loss_auc":
        words.append(f"training loss averaged over the epochs {fmt(e.get('train_loss_auc'))}")
    words.append(f"test {e['metric']} {fmt(e['test_metric'])}")
    return "; ".join(words)


def _verdict(e: dict, seeds: int, cfg: ReportConfig) -> str:
    return {"better": "shown", "worse": "not shown: the opposite effect",
            "equivalent": "not shown: the cure changed nothing (equivalent within the margin)"}.get(
        e.get("verdict"), f"not resolved with {seeds} seeds{_wider_than_margin(e, cfg)}")


def _effect(e: dict) -> tuple[str, str]:
    return f"{fmt(e.get('diff_vs_baseline'))} {interval(e.get('diff_low'), e.get('diff_high'))}", fmt(e.get("p_adjusted"), 2)


def cure_rows(row: ConceptRow, summary: dict, findings: dict, cfg: ReportConfig) -> list[Row]:
    """A failure and its cure: the cure's metric minus the failure's, paired by seed, per condition it names."""
    rows = []
    compared = findings.get("cures", {})
    for key, e in compared.items():
        if e.get("compared_on") or not (e["cure"] == row.shows or e["cure"].startswith(f"{row.shows}/")):
            continue
        failure, cure = summary[e["failure"]], summary[e["cure"]]
        # the failure's own sign, where it has one, decides the row (the first of SIGNS it shows)
        on_sign = next((compared[f"{key} on {sign}"] for sign in SIGNS if f"{key} on {sign}" in compared), None)
        shown = on_sign or e
        effect, p = _effect(shown)
        cure_text = f"`{e['cure']}`: {signs(cure, cfg)}"
        if on_sign and on_sign["compared_on"] == "divergence" and not cure.get("diverged_runs"):
            cure_text += f"; 0/{cure['runs']} runs diverged"  # signs() names a cure's divergences itself
        if on_sign and on_sign["compared_on"] == "overfitting":
            cure_text += f"; train {fmt(cure['train_metric'])} vs test {fmt(cure['test_metric'])}"
        if on_sign and e.get("paired_seeds"):
            cure_text += f"; test {e['metric']} {fmt(e['diff_vs_baseline'])} {interval(e['diff_low'], e['diff_high'])} " \
                         f"vs the failure (adjusted p {fmt(e['p_adjusted'], 2)}, {e['verdict']})"
        rows.append((f"`{e['failure']}`: {signs(failure, cfg)}", cure_text, f"{measured(shown)}: {effect}", p,
                     _verdict(shown, shown["paired_seeds"], cfg)))
    return rows


def _wider_than_margin(e: dict, cfg: ReportConfig) -> str:
    """Why an unresolved comparison is not an equivalence either, where that is why: its interval is wider than
    the equivalence margin."""
    if e.get("verdict") in ("better", "worse", "equivalent"):
        return ""
    margin = cfg.equivalence_margin.get(margin_key(e) or "")
    low, high = e.get("diff_low"), e.get("diff_high")
    if not margin or low is None or high is None or high - low <= 2 * margin:
        return ""
    return f" (its interval is wider than the ±{fmt(margin)} equivalence margin)"


def variant_rows(row: ConceptRow, summary: dict, findings: dict, cfg: ReportConfig) -> list[Row]:
    """A variant against its study's baseline in the same condition (what the study's table compares)."""
    variant, _, condition = row.shows.partition("/")
    e = summary.get(row.shows)
    baseline = summary.get(f"{findings[condition or 'all']['baseline']}/{condition}" if condition
                           else findings["all"]["baseline"])
    if e is None or baseline is None:
        return []
    on = "training loss over the epochs" if e.get("compared_on") == "train_loss_auc" else f"test {e['metric']}"
    verdict = {"better": "better", "worse": "worse", "equivalent": "equivalent within the margin"}.get(
        e.get("verdict"), f"not resolved with {e.get('paired_seeds', 0)} seeds{_wider_than_margin(e, cfg)}")
    effect, p = _effect(e)
    return [(f"baseline: {signs(baseline, cfg)}", f"`{row.shows}`: {signs(e, cfg)}", f"{on}: {effect}", p, verdict)]


def _perceptron(summary: dict, cfg: ReportConfig) -> Row:
    s = summary["perceptron"]["separable"]
    within = s["bound"] is not None and s["updates_max"] <= s["bound"]
    return ("linearly separable 2-D set", f"converged in {s['converged_runs']}/{s['runs']} runs, at most "
            f"{s['updates_max']} updates; Novikoff's bound {fmt(s['bound'])}", "-", "-",
            "shown: within the bound" if within and s["converged_runs"] == s["runs"] else "not shown")


def _xor(summary: dict, cfg: ReportConfig) -> Row:
    p, n, m = summary["perceptron"]["xor"], summary["neuron"]["xor"], summary["mlp"]["xor"]
    return (f"XOR: perceptron converged in {p['converged_runs']} runs; one sigmoid neuron test accuracy "
            f"{fmt(n['test_accuracy'])}", f"one hidden layer: test accuracy {fmt(m['test_accuracy'])}",
            f"{fmt(m['test_accuracy'] - n['test_accuracy'])}", "-", "descriptive (no test)")


def _representations(summary: dict, cfg: ReportConfig) -> Row:
    moons, gain = summary["mlp"]["moons"]["probe"], summary["probe_gain_moons"]
    digits, ceiling = summary["probe"], summary["probe_gain"]
    layer, (effect, p), (ceiling_effect, ceiling_p) = ceiling["layer"], _effect(gain), _effect(ceiling)
    return (f"two moons: a linear probe on the raw 2-D input: {fmt(moons['input'])}",
            f"on the trained MLP's hidden layer: {fmt(moons['hidden_1']['final'])}. On the 10-class set the raw "
            f"input is already separable ({fmt(digits['input'])}): {layer} after training {fmt(digits[layer]['final'])}, "
            f"{ceiling_effect} (adjusted p {ceiling_p}, {ceiling['verdict']})",
            f"probe accuracy on the moons: {effect}", p, _verdict(gain, gain.get("paired_seeds", 0), cfg))


def _backprop(summary: dict, cfg: ReportConfig) -> Row:
    check = summary["backprop_check"]
    agrees = check["max_relative_gap"] <= cfg.backprop_tolerance
    return (f"{check['activation']} net, {check['loss']}, {check['examples']} validation examples",
            f"TensorFlow's gradients vs the NumPy chain rule: largest gap {fmt(check['max_relative_gap'])} of the "
            "largest gradient (at initialization and after training)", "-", "-",
            f"shown: within {fmt(cfg.backprop_tolerance)}" if agrees else f"not shown: above {fmt(cfg.backprop_tolerance)}")


def _noise_slope(findings: dict, cfg: ReportConfig) -> Row:
    slope = findings.get("all", {}).get("noise_slope") or {}
    if slope.get("low") is None:
        return ("-", "-", "-", "-", "not measured in this run")
    inside = slope["predicted"] is not None and slope["low"] <= slope["predicted"] <= slope["high"]
    return (f"gradient-noise variance at initialization, batch sizes {', '.join(map(str, slope['batches']))}",
            f"slope {fmt(slope['slope'])} on log-log; finite-population prediction {fmt(slope['predicted'])}",
            f"{fmt(slope['slope'])} {interval(slope['low'], slope['high'])}", "-",
            "shown: the interval holds the prediction" if inside else "not shown: the interval excludes the prediction")


def _lr_sensitivity(summary: dict, cfg: ReportConfig) -> Row:
    rates = {k: e.get("best_learning_rate") for k, e in summary.items() if e.get("best_learning_rate")}
    return ("best learning rate per optimizer: " + ", ".join(f"{k} {fmt(v)}" for k, v in rates.items()),
            "decades of rates within the tolerance of the best: " + good_ranges(summary),
            "-", "-", "descriptive (no test)")


def _sparsity(summary: dict, cfg: ReportConfig) -> Row:
    found = {k: e["weight_sparsity"] for k, e in summary.items() if e.get("weight_sparsity") is not None
             and k.partition("/")[0] in ("l1", "l2")}
    return ("share of weights below 1% of their layer's largest", ", ".join(f"{k} {fmt(100 * v, 3)}%"
                                                                          for k, v in found.items()),
            "-", "-", "descriptive (no test)")


# finding name -> the row it makes from the study's summary (or, for the noise slope, its findings)
FINDINGS: Registry[Callable[[dict, ReportConfig], Row]] = Registry("finding", {
    "perceptron": _perceptron, "xor": _xor, "representations": _representations, "backprop": _backprop,
    "noise_slope": _noise_slope, "lr_sensitivity": _lr_sensitivity, "sparsity": _sparsity,
})
FROM_FINDINGS = ("noise_slope",)


def table(params: Params, reports: Path) -> list[str]:
    """The Markdown table: one line per concept row of `report.concepts` (several where a cure spans conditions)."""
    lines = list(HEAD)
    for row in params.report.concepts:
        summary = json.loads((reports / row.study / "summary.json").read_text())
        findings_file = reports / row.study / "findings.json"
        findings = json.loads(findings_file.read_text()) if findings_file.is_file() else {}
        if row.shows.startswith("finding:"):
            name = row.shows.removeprefix("finding:")
            made = [FINDINGS.get(name)(findings if name in FROM_FINDINGS else summary, params.report)]
        elif row.shows in params.report.studies[row.study].cures:
            made = cure_rows(row, summary, findings, params.report)
        else:
            made = variant_rows(row, summary, findings, params.report)
        for cells in made or [("-", "-", "-", "-", f"not shown: `{row.shows}` was not trained in this run")]:
            lines.append(f"| {row.concept} | {row.paper} | " + " | ".join(cells) + " |")
    return lines
