"""A study's trained variants, loaded from their run folders and written out as summary, findings and curves."""
from __future__ import annotations

from pathlib import Path

from stages.analysis import study_summary
from stages.common import atomic
from stages.common.errors import DataError
from stages.common.tables import write_tsv
from stages.config import Params, get_study


def load_study(params: Params, study: str, runs: Path) -> dict[str, dict[str, dict]]:
    """{condition: {variant: trained variant}} in params order; a missing variant is named."""
    spec = get_study(params, study)
    conditions = list(spec.conditions) or [""]
    loaded: dict[str, dict[str, dict]] = {condition: {} for condition in conditions}
    for variant in spec.vary:
        for condition in conditions:
            folder = runs / variant / condition
            if not (folder / "metrics.json").is_file():
                raise DataError(f"{folder}: no trained variant here; run `dvc repro train_{study}@{variant}`")
            loaded[condition][variant] = study_summary.load_variant(folder)
    return loaded


def evaluate(params: Params, study: str, runs: Path, out: Path, timing_out: Path) -> dict:
    """Write the study's summary, findings and curves; return the summary."""
    spec = get_study(params, study)
    loaded = load_study(params, study, runs)
    summary, findings = {}, {}
    with atomic.staged_dir(out / "curves") as curves, atomic.staged_dir(timing_out) as timing:
        for condition, variants in loaded.items():
            for name, result in study_summary.summarize_study(variants, spec.baseline, params.report).items():
                summary[f"{name}/{condition}" if condition else name] = result
            findings[condition or "all"] = {"baseline": spec.baseline,
                                            "noise_slope": study_summary.noise_slope(variants)}
            for file, (header, rows) in study_summary.wide_curves(variants).items():
                write_tsv(curves / condition / file, header, rows)
            write_tsv(curves / condition / "by_step.tsv", *study_summary.step_curves(variants))
            write_tsv(timing / condition / "by_time.tsv", *study_summary.time_curves(variants))
        study_summary.adjust(summary, params.report)
        atomic.write_json(out / "summary.json", summary)
        atomic.write_json(out / "findings.json", findings)
    return summary
