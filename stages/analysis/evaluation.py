"""A study's trained variants, loaded from their run folders and written out as summary, findings and curves."""
from __future__ import annotations

import json
from pathlib import Path

from stages.analysis import study_summary
from stages.analysis.cures import compare_cures, compare_references
from stages.analysis.curves import long_curves, noise_slope, step_curves
from stages.analysis.entries import summarize_study
from stages.analysis.trained import load_variant
from stages.common import atomic
from stages.common.errors import DataError
from stages.analysis.tables import write_tsv
from stages.config import Params, get_study, study_report


def load_study(params: Params, study: str, runs: Path) -> dict[str, dict[str, dict]]:
    """{condition: {variant: trained variant}} in params order; a missing variant is named."""
    spec = get_study(params, study)
    return load_trained(study, runs, list(spec.variants), list(spec.conditions) or [""])


def load_trained(study: str, runs: Path, variants: list[str], conditions: list[str]) -> dict[str, dict[str, dict]]:
    """{condition: {variant: trained variant}} from RUNS/<variant>/<condition>; a missing variant is named."""
    loaded: dict[str, dict[str, dict]] = {condition: {} for condition in conditions}
    for variant in variants:
        for condition in conditions:
            folder = runs / variant / condition
            if not (folder / "metrics.json").is_file():
                raise DataError(f"{folder}: no trained variant here; run `dvc repro train_{study}@{variant}`")
            loaded[condition][variant] = load_variant(folder)
    return loaded


# What `dvc metrics show/diff` compares for every variant of every study (with the study's own `headline:` keys).
HEADLINE = ("val_metric", "test_metric", "test_low", "test_high", "generalization_gap", "p_adjusted")


def headline(summary: dict[str, dict], own: list[str]) -> dict[str, dict]:
    """{variant: the few numbers a reader compares}: DVC's metrics, where the summary keeps every diagnostic."""
    return {key: {name: e[name] for name in (*HEADLINE, *own) if isinstance(e.get(name), (int, float))}
            for key, e in summary.items()}


def evaluate(params: Params, study: str, runs: Path, out: Path) -> dict:
    """Write the study's summary, findings and curves; return the summary."""
    plan = study_report(params, study)
    loaded = load_study(params, study, runs)
    summary, findings = {}, {}
    with atomic.staged_dir(out / "curves") as curves:
        for condition, variants in loaded.items():
            for name, result in summarize_study(variants, plan.baseline, params.report).items():
                summary[f"{name}/{condition}" if condition else name] = result
            findings[condition or "all"] = {"baseline": plan.baseline,
                                            "noise_slope": noise_slope(variants)}
            for file, (header, rows) in long_curves(variants).items():
                write_tsv(curves / condition / file, header, rows)
            write_tsv(curves / condition / "by_step.tsv", *step_curves(variants))
        compared = compare_cures(loaded, plan.cures, params.report)
        study_summary.adjust(summary, params.report, compared)
        findings["cures"] = compared
        findings["references"] = compare_references(loaded, plan.references, params.report)
        atomic.write_json(out / "summary.json", summary)
        atomic.write_json(out / "headline.json", headline(summary, plan.headline))
        atomic.write_json(out / "findings.json", findings)
    return summary
