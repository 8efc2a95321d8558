"""Stage `evaluate_<study>`: the study's variants -> summary.json, findings.json and wide curves for plots."""
from __future__ import annotations

import argparse
from pathlib import Path

from stages import atomic, config, summaries
from stages.errors import DataError, stage_entry


def write_tsv(path: Path, header: list[str], rows: list[list]) -> None:
    """A tab-separated table; missing values are empty cells."""
    cell = lambda v: "" if v is None else (f"{v:.7g}" if isinstance(v, float) else str(v))  # noqa: E731
    atomic.write_text(path, "\n".join("\t".join(map(cell, row)) for row in [header, *rows]) + "\n")


def load_study(params: config.Params, study: str, runs: Path) -> dict[str, dict[str, dict]]:
    """{condition: {variant: trained variant}} in params order; a missing variant is named."""
    spec = config.get_study(params, study)
    conditions = list(spec.conditions) or [""]
    loaded: dict[str, dict[str, dict]] = {condition: {} for condition in conditions}
    for variant in spec.vary:
        for condition in conditions:
            folder = runs / variant / condition
            if not (folder / "metrics.json").is_file():
                raise DataError(f"{folder}: no trained variant here; run `dvc repro train_{study}@{variant}`")
            loaded[condition][variant] = summaries.load_variant(folder)
    return loaded


def evaluate(params: config.Params, study: str, runs: Path, out: Path, timing_out: Path) -> dict:
    """Write the study's summary, findings and curves; return the summary."""
    spec = config.get_study(params, study)
    loaded = load_study(params, study, runs)
    summary, findings = {}, {}
    with atomic.staged_dir(out / "curves") as curves, atomic.staged_dir(timing_out) as timing:
        for condition, variants in loaded.items():
            for name, result in summaries.summarize_study(variants, spec.baseline,
                                                          params.report.lr_tolerance).items():
                summary[f"{name}/{condition}" if condition else name] = result
            findings[condition or "all"] = {"baseline": spec.baseline,
                                            "noise_slope": summaries.noise_slope(variants)}
            for file, (header, rows) in summaries.wide_curves(variants).items():
                write_tsv(curves / condition / file, header, rows)
            write_tsv(curves / condition / "by_step.tsv", *summaries.step_curves(variants))
            write_tsv(timing / condition / "by_time.tsv", *summaries.time_curves(variants))
        atomic.write_json(out / "summary.json", summary)
        atomic.write_json(out / "findings.json", findings)
    return summary


@stage_entry
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=(
        "Reads params.yaml (studies.STUDY, report) and RUNS/<variant>[/<condition>]/ from the train stages. "
        "Writes OUT/summary.json ({variant: {metric: value}}), OUT/findings.json, OUT/curves/[<condition>/]*.tsv "
        "and TIMING/[<condition>/]by_time.tsv (wall-clock, kept apart: not byte-stable)."))
    parser.add_argument("--study", required=True)
    parser.add_argument("--runs", type=Path, required=True, help="folder holding the study's train outputs")
    parser.add_argument("--out", type=Path, required=True, help="the study's report folder")
    parser.add_argument("--timing", type=Path, required=True, help="folder for wall-clock curves")
    args = parser.parse_args(argv)
    params = config.load()
    config.get_study(params, args.study)
    summary = evaluate(params, args.study, args.runs, args.out, args.timing)
    print(f"evaluate {args.study}: {len(summary)} variants -> {args.out}/summary.json")


if __name__ == "__main__":
    main()
