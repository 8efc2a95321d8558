"""Stage `timing`: wall-clock views of every study (validation loss against seconds), kept out of git and out of
the report, since they differ on every run."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from stages.analysis import study_summary
from stages.common import atomic
from stages.common.errors import stage_entry
from stages.analysis.tables import write_tsv
from stages.reporting import figures


def evaluated(reports: Path) -> dict[str, dict[str, list[str]]]:
    """{study: {condition: [variant, ...]}} as each study's evaluate stage last compared them (its summary.json
    keys are `variant` or `variant/condition`): what was trained, read without params, so that an edit to
    params.yaml does not make this stage stale before the training it draws has changed."""
    studies = {}
    for summary in sorted(reports.glob("*/summary.json")):
        if (summary.parent / "timing").is_dir():
            conditions: dict[str, list[str]] = {}
            for key in json.loads(summary.read_text()):
                variant, _, condition = key.partition("/")
                conditions.setdefault(condition, []).append(variant)
            studies[summary.parent.name] = conditions
    return studies


def timing_views(reports: Path, out: Path) -> int:
    """Write OUT/<study>/[<condition>/]by_time.tsv and OUT/figures/<study>[_<condition>]_by_time.png; return the
    number of conditions drawn."""
    drawn = 0
    with atomic.staged_dir(out) as folder:
        for study, conditions in evaluated(reports).items():
            for condition, names in conditions.items():
                variants = {name: study_summary.load_variant(reports / study / "runs" / name / condition)
                            for name in names}
                timings = {name: json.loads((reports / study / "timing" / name / condition / "timing.json").read_text())
                           for name in names}
                header, rows = study_summary.time_curves(variants, timings)
                write_tsv(folder / study / condition / "by_time.tsv", header, rows)
                tag = f"{study}_{condition}" if condition else study
                figures.progress_against(rows, 2, folder / "figures" / f"{tag}_by_time.png",
                                         "wall-clock seconds (this machine)", list(variants))
                drawn += 1
    return drawn


@stage_entry
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=(
        "Reads REPORTS/<study>/summary.json (which variants were compared), REPORTS/<study>/runs and "
        "REPORTS/<study>/timing from the train stages. Writes "
        "OUT/<study>/[<condition>/]by_time.tsv and OUT/figures/*_by_time.png."))
    parser.add_argument("--reports", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    drawn = timing_views(args.reports, args.out)
    print(f"timing: validation loss against wall-clock time for {drawn} study conditions -> {args.out}")


if __name__ == "__main__":
    main()
