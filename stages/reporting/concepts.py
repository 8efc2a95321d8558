"""The table at the top of the report: every concept of the syllabus with the evidence the pipeline measured for it,
as a failure and its cure, a variant against its study's baseline, or a finding of one study."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stages.analysis import statistics
from stages.analysis.statistics import holm
from stages.analysis.study_summary import margin_key, verdict
from stages.common.registry import Registry
from stages.config import ConceptRow, Params, ReportConfig
from stages.reporting import robustness
from stages.reporting.concept_figures import Request
from stages.reporting.formatting import fmt, interval
from stages.reporting.speed import good_ranges
from stages.reporting.study_figures import figure_file
from stages.reporting.wording import effect, measured

Row = tuple[str, str, str, str, str]  # failure evidence, cure evidence, effect [95%], adjusted p, verdict
HEAD = ["| concept | seed paper | endpoint | failure or question: evidence | cure or answer: evidence "
        "| effect on the endpoint [paired 95%] | p (Holm, concept rows) | power at the observed effect "
        "| cure vs a healthy net (test metric, exploratory) | verdict |", "|" + "---|" * 10]
REPEAT_POWER = 0.9  # a row shown with less power at its own effect is a coin flip on a rerun: it reads not resolved


UNTESTED = ("-", "not resolved: no paired test")  # p and verdict until the confirmatory family fills them in


@dataclass
class Line:
    """One line of the table before the confirmatory family is adjusted: its evidence cells, and the comparison
    on the row's declared endpoint (None: the row carries its own check, or could not be tested, as `cells` say)."""

    cells: Row
    test: dict | None = None
    words: tuple[str, str] = ("shown", "not shown: the opposite effect")  # a verdict of better, of worse
    expect: str | None = None  # the paper's claim the row tests (params.yaml), which picks its test
    power: str = "-"
    reference: str = "-"
    keys: tuple[tuple[str, str], ...] = ()  # (legend, summary key) of what it compares, failure or baseline first

    def rendered(self) -> list[str]:
        """The cells in the table's column order."""
        return [*self.cells[:4], self.power, self.reference, self.cells[4]]


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
        words.append(f"training loss averaged over the epochs {fmt(e.get('train_loss_auc'))}, final "
                     f"{fmt(e.get('train_loss'))}" + _per_step(e))
    words.append(f"test {e['metric']} {fmt(e['test_metric'])}")
    return "; ".join(words)


def confirm(lines: list[Line], cfg: ReportConfig) -> int:
    """Holm's correction over the concept rows' tests on their declared endpoints (the one confirmatory family: the
    paired test of a difference, or TOST where the row expects an equivalence), and each line's p, power and verdict
    from it; the number of tests in the family."""
    tested = [line for line in lines if line.test is not None and _family_p(line) is not None]
    for line, p in zip(tested, holm([_family_p(line) for line in tested])):
        level = row_alpha(_family_p(line), p, cfg.significance, len(tested))
        judge = _equivalence if line.expect == "equivalent" else _difference
        line.cells = (*line.cells[:3], fmt(p, 2), judge(line, p, level, cfg))
    return len(tested)


def _family_p(line: Line) -> float | None:
    """The raw p of the row's declared test: TOST's for an expected equivalence, else the paired test's."""
    return line.test.get("p_equivalence" if line.expect == "equivalent" else "p_vs_baseline")


def _difference(line: Line, p: float, level: float, cfg: ReportConfig) -> str:
    """The verdict of a paired test of a difference: its direction, against the paper's where it declares one,
    kept only where a rerun would repeat it with chance REPEAT_POWER."""
    test = line.test
    found = verdict({**test, "p_adjusted": p}, cfg.significance, None)
    power = statistics.power_at_observed(test, level)
    line.power = fmt(power, 2)
    words = dict(zip(("better", "worse"), line.words)).get(found)
    if words is None:
        return _tie(test) or (f"not resolved with {test.get('paired_seeds', 0)} seeds (adjusted p {fmt(p, 2)})"
                              + _seeds_needed(test, level))
    if line.expect is not None and found != line.expect:
        words = f"disagrees with the paper: {words.removeprefix('not shown: ')}"
    if power is not None and power < REPEAT_POWER:
        return (f"not resolved: {words.partition(':')[0]} at this p, but a rerun would repeat it only with chance "
                f"{fmt(power, 2)} (below {REPEAT_POWER})"
                + _seeds_needed(test, level))
    return words


def _equivalence(line: Line, p: float, level: float, cfg: ReportConfig) -> str:
    """The verdict of TOST within the row's margin: equivalent (where a rerun would repeat it), a difference outside
    the margin (the paper's equivalence does not hold), or not resolved, with the seeds that would settle it."""
    test = line.test
    margin = cfg.equivalence_margin[margin_key(test)]
    power = statistics.equivalence_power(test, margin, level)
    line.power = fmt(power, 2)
    low, high = test.get("diff_low"), test.get("diff_high")
    if verdict({**test, "p_adjusted": None, "p_equivalence_adjusted": p}, cfg.significance, margin) == "equivalent":
        if power is not None and power < REPEAT_POWER:
            return (f"not resolved: equivalent within ±{fmt(margin)} at this p, but a rerun would repeat it only "
                    f"with chance {fmt(power, 2)} (below {REPEAT_POWER})"
                    + _seeds_needed(test, level, margin))
        examples = f" on these {test['n_test']:,} test examples" if test.get("n_test") else ""
        nonzero = test.get("p_vs_baseline") is not None and test["p_vs_baseline"] < cfg.significance
        return (f"equivalent within ±{fmt(margin)}{examples}" + (
            f" (the difference, {fmt(test['diff_vs_baseline'])}, is itself nonzero: exploratory paired p "
            f"{fmt(test['p_vs_baseline'], 2)})" if nonzero else ""))
    if low is not None and high is not None and (low > margin or high < -margin):
        return f"disagrees with the paper: the difference lies outside ±{fmt(margin)}"
    return (f"not resolved with {test.get('paired_seeds', 0)} seeds (the interval is wider than the ±{fmt(margin)} "
            "equivalence margin)" + _seeds_needed(test, level, margin))


def _seeds_needed(test: dict, level: float, margin: float | None = None) -> str:
    """How many seeds would settle a row (its difference, or its equivalence within ±margin) at its observed effect
    and spread, in words; where no feasible number would, what its interval does rule out."""
    seeds = statistics.seeds_for_power(test, level, REPEAT_POWER, margin)
    if seeds is not None:
        return f"; about {seeds} seeds would settle it at the observed effect and spread"
    low, high = test.get("diff_low"), test.get("diff_high")
    if low is None or high is None:
        return ""
    return f"; its interval rules out only differences beyond ±{fmt(max(abs(low), abs(high)))}"


def row_alpha(p: float, adjusted: float, alpha: float, family: int) -> float:
    """The level a row's raw p had to beat in Holm's step-down (alpha over its step's multiplier)."""
    return alpha * p / adjusted if p > 0 and adjusted > 0 else alpha / family


def _per_step(e: dict) -> str:
    """A speed per epoch seen per optimizer step too: the median epochs to the validation target, in steps."""
    if e.get("target") is None or not e.get("steps_per_epoch"):
        return ""
    if e.get("epochs_to_target") is None:
        return f"; validation {e['metric']} {fmt(e['target'])} not reached by the median run"
    steps = e["epochs_to_target"] * e["steps_per_epoch"]
    return (f"; validation {e['metric']} {fmt(e['target'])} after {fmt(e['epochs_to_target'])} epochs, "
            f"{steps:,.0f} steps")


def _tie(e: dict) -> str:
    """A comparison with the same value on both sides in every seed (a ceiling or a floor), said as such."""
    if e.get("diff_vs_baseline") == 0 and e.get("diff_std") == 0:
        return (f"not shown: both sides are equal in all {e['paired_seeds']} seeds (at a ceiling or floor, where "
                "this endpoint cannot move)")
    return ""


def cure_rows(row: ConceptRow, summary: dict, findings: dict, cfg: ReportConfig) -> list[Line]:
    """A failure and its cure, per condition the cure names: the comparison on the row's endpoint (the cure's
    value minus the failure's, paired by seed); the test metric beside a sign endpoint, as secondary evidence."""
    lines = []
    compared = findings.get("cures", {})
    for key, e in compared.items():
        if e.get("compared_on") or not (e["cure"] == row.shows or e["cure"].startswith(f"{row.shows}/")):
            continue
        failure, cure = summary[e["failure"]], summary[e["cure"]]
        test = e if row.endpoint == "test_metric" else compared.get(f"{key} on {row.endpoint}")
        cure_text = f"`{e['cure']}`: {signs(cure, cfg)}"
        if row.endpoint == "divergence" and not cure.get("diverged_runs"):
            cure_text += f"; 0/{cure['runs']} runs diverged"  # signs() names a cure's divergences itself
        if row.endpoint == "overfitting":
            cure_text += f"; train {fmt(cure['train_metric'])} vs test {fmt(cure['test_metric'])}"
        if row.endpoint != "test_metric" and e.get("paired_seeds"):
            cure_text += (f"; secondary (exploratory): test {e['metric']} {fmt(e['diff_vs_baseline'])} "
                          f"{interval(e['diff_low'], e['diff_high'])} vs the failure")
        failure_text = f"`{e['failure']}`: {signs(failure, cfg)}"
        if test is None:
            line = Line((failure_text, cure_text, "-", "-",
                         f"not tested: `{e['failure']}` does not show {row.endpoint} in every seed here"))
        else:
            line = Line((failure_text, cure_text, f"{measured(test)}: {effect(test)}", *UNTESTED), test)
        healthy = next((r for r in findings.get("references", {}).values() if r["cure"] == e["cure"]), None)
        line.keys = (("failure: " + e["failure"], e["failure"]), ("cure: " + e["cure"], e["cure"]))
        if healthy is not None:
            line.reference = reference_words(healthy)
            line.keys += (("healthy: " + healthy["reference"], healthy["reference"]),)
        lines.append(line)
    return lines


def reference_words(e: dict) -> str:
    """Whether a cure reaches its healthy reference (e: their comparison), with the reference's test metric and the
    paired difference."""
    return f"{e['reaches']} `{e['reference']}` ({fmt(e['reference_metric'])}): {effect(e)}"


def variant_rows(row: ConceptRow, summary: dict, findings: dict, cfg: ReportConfig) -> list[Line]:
    """A variant against its study's baseline in the same condition, on what the study compares (the row's
    endpoint: the test metric, or the training loss where the study selects on it)."""
    variant, _, condition = row.shows.partition("/")
    e = summary.get(row.shows)
    baseline = summary.get(f"{findings[condition or 'all']['baseline']}/{condition}" if condition
                           else findings["all"]["baseline"])
    if e is None or baseline is None:
        return []
    on = "training loss over the epochs" if e.get("compared_on") == "train_loss_auc" else f"test {e['metric']}"
    base_key = f"{findings[condition or 'all']['baseline']}/{condition}" if condition else findings["all"]["baseline"]
    return [Line((f"baseline: {signs(baseline, cfg)}", f"`{row.shows}`: {signs(e, cfg)}", f"{on}: {effect(e)}",
                  *UNTESTED), e, ("better", "worse"),  # a variant may be expected to lose: the row says which way
                 keys=(("baseline: " + base_key, base_key), (row.shows, row.shows)))]


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
    layer = ceiling["layer"]
    return (f"two moons: a linear probe on the raw 2-D input: {fmt(moons['input'])}",
            f"on the trained MLP's hidden layer: {fmt(moons['hidden_1']['final'])}. On the 10-class set the raw "
            f"input is already separable ({fmt(digits['input'])}): {layer} after training {fmt(digits[layer]['final'])}, "
            f"{effect(ceiling)} (secondary, exploratory)",
            f"probe accuracy on the moons: {effect(gain)}", *UNTESTED)


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
# findings whose check is a paired test, which joins the confirmatory family: its comparison in the summary
FINDING_TESTS = {"representations": "probe_gain_moons"}


# the kind of figure the report already draws of the row's study that shows a finding (study_figures.figure_file)
FINDING_FIGURES = {"perceptron": "boundaries", "xor": "boundaries", "representations": "probe_accuracy",
                   "noise_slope": "noise", "lr_sensitivity": "lr"}


def figure_requests(made: list[tuple[ConceptRow, Line]]) -> tuple[list[str], list[Request]]:
    """Per line, the figure file its endpoint cell links ("" for none) and the figures to draw."""
    files, requests = [], []
    for index, (row, line) in enumerate(made, 1):
        if row.shows.startswith("finding:"):
            kind = FINDING_FIGURES.get(row.shows.removeprefix("finding:"))
            files.append(figure_file(row.study, kind) if kind else "")
        elif line.keys:
            condition = line.keys[1][1].partition("/")[2]  # the cure's or the variant's
            file = f"concept_{index:02d}{'_' + condition if condition else ''}.png"
            title = row.concept + (f" ({condition})" if condition else "")
            requests.append(Request(file, row.study, row.endpoint, line.keys, title))
            files.append(file)
        else:
            files.append("")
    return files, requests


def judged(params: Params, reports: Path) -> tuple[list[tuple[ConceptRow, Line]], int]:
    """Every line of the table with its verdict from the confirmatory family (one per concept row of
    `report.concepts`, several where a cure spans conditions), and the number of tests in that family."""
    made: list[tuple[ConceptRow, Line]] = []
    for row in params.report.concepts:
        summary = json.loads((reports / row.study / "summary.json").read_text())
        findings_file = reports / row.study / "findings.json"
        findings = json.loads(findings_file.read_text()) if findings_file.is_file() else {}
        if row.shows.startswith("finding:"):
            name = row.shows.removeprefix("finding:")
            found = FINDINGS.get(name)(findings if name in FROM_FINDINGS else summary, params.report)
            lines = [Line(found, summary.get(FINDING_TESTS[name]) if name in FINDING_TESTS else None)]
        elif row.shows in params.report.studies[row.study].cures:
            lines = cure_rows(row, summary, findings, params.report)
        else:
            lines = variant_rows(row, summary, findings, params.report)
        for line in lines:
            line.expect = row.expect
        made += [(row, line) for line in lines or [
            Line(("-", "-", "-", "-", f"not shown: `{row.shows}` was not trained in this run"))]]
    return made, confirm([line for _, line in made], params.report)


OUTCOMES = ("not resolved", "not shown", "not tested", "not measured", "descriptive", "disagrees", "equivalent",
            "shown", "better", "worse")  # a verdict's outcome: the words it starts with


def outcome(words: str) -> str:
    """The outcome a verdict's words state (shown, not resolved, disagrees, ...), the part a rerun should repeat."""
    return next((o for o in OUTCOMES if words.startswith(o)), words)


def _records(made: list[tuple[ConceptRow, Line]]) -> list[dict]:
    return [{"concept": row.concept, "compares": line.keys[1][1] if line.keys else row.shows,
             "endpoint": row.endpoint, "expect": row.expect, "effect": line.cells[2], "p_holm": line.cells[3],
             "power": line.power, "verdict": line.cells[4], "outcome": outcome(line.cells[4])} for row, line in made]


def records(params: Params, reports: Path) -> list[dict]:
    """The table's lines as data (reports/concepts.json): what each compares, its p, power and verdict."""
    return _records(judged(params, reports)[0])


def table(params: Params, reports: Path) -> tuple[list[str], list[Request]]:
    """The Markdown table, then a note on its confirmatory family; and the figures its lines link, for the report
    to draw."""
    made, family = judged(params, reports)
    files, requests = figure_requests(made)
    body = [f"| {row.concept} | {row.paper} | {endpoint_words(row.endpoint)}"
            + (f"; the paper: {row.expect}" if row.expect else "") + (f" ([figure](figures/{file}))" if file else "") + " | " + " | ".join(line.rendered()) + " |"
            for (row, line), file in zip(made, files)]
    return [*HEAD, *body, "", f"Each row is judged on its endpoint alone, declared in `params.yaml` before the run "
            "with what the paper claims of it (`expect`: the cure or variant does better or worse, or is equivalent "
            f"within the margin); the {family} tests on those endpoints form one Holm family (the p column): the paired "
            "test of a difference, or TOST where the paper claims an equivalence. A significant effect against the "
            "paper's claim, or a difference whose whole interval lies outside the margin of a claimed equivalence, "
            "reads \"disagrees with the paper\". Every other number in a row, and every p-value in the study sections "
            "below (adjusted within each study), is exploratory. Effects are cure minus failure (or variant minus "
            "baseline), the mean of the per-seed differences with the paired t-interval (for divergence, two 97.5% "
            "Clopper-Pearson intervals); these intervals and tests are over seeds on one fixed test split, so they say "
            "whether nets trained from other seeds would differ on these test examples, not how far a difference "
            f"carries to new data (the test split's own sampling error is not in them{_fewest_examples(made)}). Power is the chance that a rerun on as many new seeds repeats the verdict at "
            "the level Holm's step gave the row, if the true mean and spread were the observed ones (the paired "
            "t-test's power in the observed direction; for divergence, the exact McNemar test's; for an equivalence, "
            f"TOST's, in the normal approximation); a verdict with power below {REPEAT_POWER} reads not resolved, since "
            "a rerun could well reverse it, and an unresolved row says how many seeds would reach that power at its "
            "observed effect and spread. Where the study declares one (`references:` in its report section), a cure "
            "is also compared with a healthy net of the same shape on the test metric: it \"reaches\" it when the "
            "paired interval lies above minus the equivalence margin, \"falls short\" when it lies below, else "
            "unclear. Each row's figure draws its endpoint over the epochs for the variants it compares (the setting "
            "chosen on every seed, mean over seeds with a ±1 SD band) and, beside it, the mechanism the failure shows: "
            "dead or saturated units per epoch, gradients per layer at initialization, or the training loss against "
            "optimizer steps. Per second, the `timing` stage draws each study's validation loss against wall-clock "
            "seconds (`reports/timing/figures/<study>_by_time.png`, kept out of git and out of this report: seconds "
            "differ on every run).", *robustness.note(reports, {robustness.line_key(r): r["outcome"] for r in _records(made)})], requests


def _fewest_examples(made: list[tuple[ConceptRow, Line]]) -> str:
    """The fewest test examples an accuracy row is scored on, and what one of them weighs, in words."""
    counts = [line.test["n_test"] for _, line in made if line.test and line.test.get("n_test")
              and line.test.get("metric") == "accuracy"]
    return f": at {min(counts):,} test examples one example is {fmt(1 / min(counts), 2)} of accuracy" if counts else ""


def endpoint_words(endpoint: str) -> str:
    """A declared endpoint in the words the effect cells use for the comparison on it."""
    return "its own check" if endpoint == "finding" else measured({"compared_on": endpoint, "metric": "metric"})
