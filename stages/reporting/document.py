"""The generated report, reports/README.md: per study its question, tables, figures and computed verdicts."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from stages.analysis import selection
from stages.analysis.evaluation import load_study
from stages.common import atomic
from stages.config import Params, StudyConfig, study_report
from stages.reporting import concept_figures, concepts, foundations, verdicts
from stages.reporting.formatting import fmt, interval
from stages.reporting.study_figures import across_conditions, condition_figures, embed
from stages.reporting.wording import label


MARGIN_UNITS = {"accuracy": "accuracy", "mae": "MAE, in standard deviations of the target",
                "train_loss_auc": "nats of training loss averaged over the epochs",
                "saturation": "of the top hidden layer's units saturated"}


def margins(margin: dict[str, float]) -> str:
    """The equivalence margins in words, each in its own unit."""
    return "; ".join(f"±{value} {MARGIN_UNITS.get(key, key)}" for key, value in margin.items())


def table(entries: dict[str, dict], baseline: str) -> list[str]:
    """A Markdown table of one condition's variants: selection on validation, every other number on test."""
    metric = next(iter(entries.values()))["metric"]
    on_loss = next(iter(entries.values())).get("compared_on") == "train_loss_auc"
    if on_loss:  # the study compares training speed: the sweep chose on it too, the held-out view stays beside it
        head = (f"| variant | chosen setting (on training loss) | val {metric} | test {metric} [95%] | training loss, "
                f"mean over epochs [95%] | after epoch 1 | difference vs {baseline} [95%] | p | p adjusted | verdict "
                "| epochs to target | diverged |")
    else:
        head = (f"| variant | chosen setting (on validation) | val {metric} | test {metric} [95%] | "
                f"test difference vs {baseline} [95%] | p | p adjusted | verdict | epochs to target | diverged |")
    rows = [head, "|" + "---|" * (head.count(" | ") + 1)]
    for name, e in entries.items():
        setting = ", ".join(f"{k}={fmt(v)}" + (" (grid edge)" if k in e["setting_on_grid_edge"] else "")
                            for k, v in (e["best_setting"] or {}).items()) or "-"
        if name == baseline:
            compared = "baseline | - | - | -"
        else:
            compared = (f"{fmt(e['diff_vs_baseline'])} {interval(e['diff_low'], e['diff_high'])} | "
                        f"{fmt(e['p_vs_baseline'], 2)} | {fmt(e['p_adjusted'], 2)} | {label(e)}")
        loss = (f"{fmt(e['train_loss_auc'])} {interval(e['train_loss_auc_low'], e['train_loss_auc_high'])} | "
                f"{fmt(e['train_loss_epoch_1'])} | " if on_loss else "")
        rows.append(f"| {name} | {setting} | {fmt(e['val_metric'])} | {fmt(e['test_metric'])} "
                    f"{interval(e['test_low'], e['test_high'])} | {loss}{compared} | {_reached(e)} | "
                    f"{e['diverged_runs']} |")
    return rows


def _reached(entry: dict) -> str:
    """Median epochs to the target (runs that never reached it count as never), and how many reached it."""
    if entry["target"] is None:
        return "-"
    median = "not reached" if entry["epochs_to_target"] is None else f"median {fmt(entry['epochs_to_target'])}"
    return f"{median} ({entry['reached_target_runs']}/{entry['runs']})"


def draw_concept_figures(requests: list, runs: dict[str, dict[str, dict]], summary: dict, params: Params,
                         folder: Path) -> None:
    """The concept table's figures of one study, from its loaded runs ({condition: {variant: trained}}) and
    summary."""
    for request in requests:
        variants = {}
        for legend, key in request.keys:
            variant, _, condition = key.partition("/")
            if variant in runs.get(condition, {}):
                variants[legend] = runs[condition][variant]
        concept_figures.draw(request, variants, summary[request.keys[0][1]], params.report, folder)


def training_rows(spec: StudyConfig, summary: dict, budget: int | None) -> str:
    """How many training rows the study's variants trained on, against its data budget (`train_rows`)."""
    rows = sorted({e["n_train"] for e in summary.values() if e.get("n_train")})
    counted = f"{rows[-1]:,}" if len(rows) == 1 else f"{rows[0]:,} to {rows[-1]:,}"
    return (f"Training rows: {counted} of `{spec.dataset}`" + (f" (budget: {budget:,} rows, the same stratified subset "
            "on every machine)" if budget else " (no budget: the whole training split)") + ".") if rows else ""


def validation_rows(summary: dict, budget: int | None) -> str:
    """How many validation rows the per-epoch curves (and the epochs to target read off them) were measured on,
    against their budget (`val_rows`)."""
    rows = sorted({e["n_val"] for e in summary.values() if e.get("n_val")})
    if not rows:
        return ""
    split, limit = rows[-1], f"budget: {budget:,} rows" if budget else "no budget"
    measured = (f"{budget:,} of {split:,} validation rows ({limit}, a fixed subset drawn with the split seed)"
                if budget and budget < split else f"all {split:,} validation rows ({limit})")
    return (f"Validation curves per epoch, and the epochs to target read off them: {measured}; final validation and "
            "test scores on every row.")


def study_section(number: int, study: str, spec: StudyConfig, reports: Path, runs: dict, summary: dict,
                  params: Params, folder: Path) -> list[str]:
    """The Markdown of one study: question, tables, figures with a how-to-read line, verdicts."""
    findings = json.loads((reports / study / "findings.json").read_text())
    plan = study_report(params, study)
    rows = training_rows(spec, summary, spec.set.get("train_rows", params.defaults.train_rows))
    curves = validation_rows(summary, spec.set.get("val_rows", params.defaults.val_rows))
    if rows and curves:
        rows += " " + curves
    lines = [f"## {number}. {study.replace('_', ' ').capitalize()}", "", f"> {spec.question.strip()}", "",
             *([rows, ""] if rows else [])]
    for condition, variants in runs.items():
        keys = {name: f"{name}/{condition}" if condition else name for name in variants}
        entries = {name: summary[key] for name, key in keys.items()}
        if condition:
            lines += [f"### {condition}", ""]
        lines += table(entries, plan.baseline) + [""]
        if any(e.get("born_dead_runs") or e.get("collapsed_runs") or e.get("top_saturation_peak") is not None
               for e in entries.values()):
            lines += ["| variant | failure signs of the chosen runs |", "|---|---|"]
            lines += [f"| {name} | {concepts.signs(e, params.report)} |" for name, e in entries.items()] + [""]
        for file, kind in condition_figures(study, spec, condition, variants, folder):
            lines += embed(file, kind)
    lines += across_conditions(study, summary, spec, folder)
    lines += ["**Verdicts**", ""] + [f"- {v}" for v in verdicts.verdicts(summary, params.report, findings, spec,
                                                                           plan)] + [""]
    return lines


def foundations_section(params: Params, reports: Path, folder: Path) -> list[str]:
    """Section 1: the perceptron, one neuron and an MLP on 2-D sets; probes and calibration. Its figures are
    copied next to the others, so everything the report links is in one folder kept in git."""
    summary = json.loads((reports / "foundations" / "summary.json").read_text())
    for figure in sorted((reports / "foundations" / "figures").glob("*.png")):
        shutil.copyfile(figure, folder / f"foundations_{figure.name}")
    lines = ["## 1. Foundations", "", f"> {params.foundations.question.strip()}", "",
             "| model | separable | XOR | two moons |", "|---|---|---|---|"]
    for model in ("perceptron", "neuron", "mlp"):
        cells = " | ".join(fmt(summary[model][name]["test_accuracy"]) for name in ("separable", "xor", "moons"))
        lines.append(f"| {model} | {cells} |")
    lines += ["", "*Test accuracy on a fresh draw from each generator, mean over seeds.*", ""]
    probe = summary["probe"]
    layers = sorted(key for key in probe if key.startswith("hidden_"))
    lines += ["| linear probe on | at initialization | after training |", "|---|---|---|",
              f"| raw input | {fmt(probe['input'])} | {fmt(probe['input'])} |"]
    lines += [f"| {layer} | {fmt(probe[layer]['init'])} | {fmt(probe[layer]['final'])} |" for layer in layers] + [""]
    for file, caption in (
            ("boundaries.png", "Decision regions (color: P(class 1); black: the 0.5 boundary) of the perceptron, "
                               "one sigmoid neuron and a one-hidden-layer MLP on XOR (top) and two moons (bottom)."),
            ("boundary_forming.png", "The MLP's boundary on the moons as gradient descent goes on."),
            ("probe_accuracy.png", "Validation accuracy of a logistic regression fitted on each hidden layer's "
                                   "activations, per epoch; the flat line is the same probe on the raw input."),
            ("projections.png", "The last hidden layer's validation activations projected on their first two "
                                "principal components, at initialization, midway and at the end; colors are classes."),
            ("reliability.png", "Accuracy against confidence of the softmax outputs on the test split; bars on "
                                "the diagonal mean calibrated probabilities, below it overconfident ones.")):
        lines += [f"![{file}](figures/foundations_{file})", "", f"*How to read:* {caption}", ""]
    lines += ["**Verdicts**", ""] + [f"- {v}" for v in foundations.foundations(summary, params.report)] + [""]
    return lines


def build(params: Params, reports: Path, data: Path, figure_dir: Path) -> str:
    """Write every figure and return the report's Markdown."""
    sources = {}
    for spec in params.studies.values():
        meta = json.loads((data / spec.dataset / "meta.json").read_text())
        sources[spec.dataset] = f"`{spec.dataset}`: {meta['origin']} ({meta['source']})"
    lines = ["# Results", "",
             "Generated by the `report` stage of `dvc repro` from `reports/<study>/summary.json`; every number "
             "below comes from the pipeline. Do not edit by hand.", "",
             f"Seeds per setting: {len(params.defaults.seeds)} (unless a study sets its own). Data: "
             + "; ".join(sources.values()) + ".", "",
             "Each variant's setting (learning rate, penalty, ...) is chosen on the validation split (on the "
             "training loss where a study compares training speed); every other number in the tables is on the "
             "held-out test split. The setting shown is the one chosen on every seed, but the numbers compared are "
             "cross-fitted: each seed's run is taken at the setting chosen on the other seeds, so no compared number "
             f"helped choose itself; {selection.TIE_RULE}. Regression errors are in standard deviations of "
             "the target. Intervals are 95% t-intervals over seeds (for accuracy clipped to [0, 1]). Comparisons "
             "with a study's baseline are paired by seed (same data order and initial weights): the difference is "
             "the mean of the per-seed differences with its paired t-interval, p is the paired "
             "t-test (for the share of runs that diverged, the exact McNemar test, with an interval from two "
             "97.5% Clopper-Pearson intervals), \"p adjusted\" is Holm's correction over the tests the study "
             "reports (exploratory: the concept table below is the confirmatory family); \"better\" or "
             "\"worse\" needs an adjusted p below " f"{params.report.significance} and an interval that excludes 0, "
             "and a variant is called equivalent only when a TOST (and the interval) puts the difference inside "
             f"its margin ({margins(params.report.equivalence_margin)}); otherwise it is \"not resolved\", "
             "with the smallest difference the design detects at 80% power. \"(grid edge)\" marks a chosen "
             f"setting at the end of its grid that beats the next one inward by more than {params.report.lr_tolerance}: "
             "the best may lie outside it.",
             "", "## Failures of training and their cures", "",
             "One row per concept (`report.concepts` in params.yaml). Most rows are a failure condition and its cure "
             "in the same study, trained on the same seeds: the effect is the cure minus the failure, paired by seed. "
             "Others compare a variant with its study's baseline (the verdict then says better, worse, equivalent "
             "or not resolved), or state a finding: a bound, a check against a tolerance, a slope against its "
             "prediction, or numbers marked \"descriptive (no test)\". Each row names its endpoint and what its paper "
             "claims of it, both declared in params.yaml before any run: the endpoint is the test metric, the training "
             "loss averaged over the epochs, or one of the failure's own signs (the share of runs that diverged; the "
             "top hidden layer's peak saturated share; overfitting, the train metric beyond the test metric, floored at "
             "0 so that underfitting earns nothing), and the claim is better, worse or equivalent. A row is judged on "
             "that endpoint alone: \"shown\" (or better, worse) needs a p below "
             f"{params.report.significance} after Holm's correction over the concept rows' tests (one confirmatory "
             "family) and an interval that excludes 0, \"equivalent\" a TOST p below it and an interval inside the "
             "margin, and a significant result against the claim reads \"disagrees with the paper\"; a cure tested "
             "on a sign whose failure does not show it in every seed reads \"not tested\".", ""]
    concept_table, requests = concepts.table(params, reports)
    lines += concept_table + ["", "## Contents", ""]
    lines += ["1. [Foundations](#1-foundations)"]
    lines += [f"{i}. [{s.replace('_', ' ').capitalize()}](#{i}-{s.replace('_', '-')})"
              for i, s in enumerate(params.studies, 2)] + [""]
    with atomic.staged_dir(figure_dir) as folder:
        lines += foundations_section(params, reports, folder)
        for number, (study, spec) in enumerate(params.studies.items(), 2):
            runs = load_study(params, study, reports / study / "runs")
            summary = json.loads((reports / study / "summary.json").read_text())
            lines += study_section(number, study, spec, reports, runs, summary, params, folder)
            draw_concept_figures([r for r in requests if r.study == study], runs, summary, params, folder)
    return "\n".join(lines).rstrip() + "\n"
