"""Stage `timing`: wall-clock views of every study (validation loss against seconds), kept out of git and out of
the report, since they differ on every run."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from stages.analysis import curves
from stages.analysis.evaluation import load_trained
from stages.common import atomic
from stages.common.errors import stage_entry
from stages.analysis.tables import write_tsv
from stages.reporting import figures


def evaluated(reports: Path) -> dict[str, tuple[list[str], list[str]]]:
    """{study: (variants, conditions)} as each study's evaluate stage last compared them (its summary.json keys are
    `variant` or `variant/condition`): what was trained, read without params, so that an edit to params.yaml does
    not make this stage stale before the training it draws has changed."""
    studies = {}
    for summary in sorted(reports.glob("*/summary.json")):
        if (summary.parent / "timing").is_dir():
            keys = [key.partition("/") for key in json.loads(summary.read_text())]
            studies[summary.parent.name] = (list(dict.fromkeys(variant for variant, _, _ in keys)),
                                            list(dict.fromkeys(condition for _, _, condition in keys)))
    return studies


def timing_views(reports: Path, out: Path) -> int:
    """Write OUT/<study>/[<condition>/]by_time.tsv and OUT/figures/<study>[_<condition>]_by_time.png; return the
    number of conditions drawn."""
    drawn = 0
    with atomic.staged_dir(out) as folder:
        for study, (variants, conditions) in evaluated(reports).items():
            runs = load_trained(study, reports / study / "runs", variants, conditions)
            for condition, trained in runs.items():
                timings = {name: json.loads((reports / study / "timing" / name / condition / "timing.json").read_text())
                           for name in trained}
                header, rows = curves.time_curves(trained, timings)
                write_tsv(folder / study / condition / "by_time.tsv", header, rows)
                tag = f"{study}_{condition}" if condition else study
                figures.progress_against(rows, 2, folder / "figures" / f"{tag}_by_time.png",
                                         "wall-clock seconds (this machine)", list(trained))
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
