"""Stage `timing`: wall-clock views of every study (validation loss against seconds), kept out of git and out of
the report, since they differ on every run."""
from __future__ import annotations

import argparse
from pathlib import Path

from stages import config
from stages.analysis import study_summary
from stages.analysis.evaluation import load_study, load_timings
from stages.common import atomic
from stages.common.errors import stage_entry
from stages.analysis.tables import write_tsv
from stages.reporting import figures


def timing_views(params: config.Params, reports: Path, out: Path) -> int:
    """Write OUT/<study>/[<condition>/]by_time.tsv and OUT/figures/<study>[_<condition>]_by_time.png; return the
    number of conditions drawn."""
    drawn = 0
    with atomic.staged_dir(out) as folder:
        for study in params.studies:
            runs = load_study(params, study, reports / study / "runs")
            timings = load_timings(params, study, reports / study / "timing")
            for condition, variants in runs.items():
                header, rows = study_summary.time_curves(variants, timings[condition])
                write_tsv(folder / study / condition / "by_time.tsv", header, rows)
                tag = f"{study}_{condition}" if condition else study
                figures.progress_against(rows, 2, folder / "figures" / f"{tag}_by_time.png",
                                         "wall-clock seconds (this machine)", list(variants))
                drawn += 1
    return drawn


@stage_entry
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=(
        "Reads params.yaml (studies), REPORTS/<study>/runs and REPORTS/<study>/timing from the train stages. Writes "
        "OUT/<study>/[<condition>/]by_time.tsv and OUT/figures/*_by_time.png."))
    parser.add_argument("--reports", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    drawn = timing_views(config.load(), args.reports, args.out)
    print(f"timing: validation loss against wall-clock time for {drawn} study conditions -> {args.out}")


if __name__ == "__main__":
    main()
