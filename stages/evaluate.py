"""Stage `evaluate_<study>`: the study's variants -> summary.json, findings.json and wide curves for plots."""
from __future__ import annotations

import argparse
from pathlib import Path

from stages import config
from stages.analysis.evaluation import evaluate
from stages.common.errors import stage_entry


@stage_entry
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=(
        "Reads params.yaml (studies.STUDY, report) and RUNS/<variant>[/<condition>]/ from the train stages. "
        "Writes OUT/summary.json ({variant: {metric: value}}), OUT/findings.json and OUT/curves/[<condition>/]*.tsv."))
    parser.add_argument("--study", required=True)
    parser.add_argument("--runs", type=Path, required=True, help="folder holding the study's train outputs")
    parser.add_argument("--out", type=Path, required=True, help="the study's report folder")
    args = parser.parse_args(argv)
    params = config.load()
    config.get_study(params, args.study)
    summary = evaluate(params, args.study, args.runs, args.out)
    print(f"evaluate {args.study}: {len(summary)} variants -> {args.out}/summary.json")


if __name__ == "__main__":
    main()
