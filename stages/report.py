"""Stage `report`: every study's summary -> reports/README.md with tables, figures and computed verdicts."""
from __future__ import annotations

import argparse
from pathlib import Path

from stages import config
from stages.common import atomic
from stages.common.errors import stage_entry
from stages.reporting import concepts
from stages.reporting.document import build

@stage_entry
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=(
        "Reads params.yaml (studies, report), REPORTS/<study>/{summary,findings}.json and runs/, and "
        "DATA/<dataset>/meta.json. Writes OUT (Markdown), FIGURES/*.png and CONCEPTS (the concept table's verdicts "
        "as JSON, which the robustness check compares)."))
    parser.add_argument("--reports", type=Path, required=True, help="folder holding reports/<study>/")
    parser.add_argument("--data", type=Path, required=True, help="data/processed")
    parser.add_argument("--out", type=Path, required=True, help="the Markdown report to write")
    parser.add_argument("--figures", type=Path, required=True, help="folder for the figures")
    parser.add_argument("--concepts", type=Path, required=True, help="the concept table's verdicts (JSON)")
    args = parser.parse_args(argv)
    params = config.load()
    atomic.write_text(args.out, build(params, args.reports, args.data, args.figures))
    atomic.write_json(args.concepts, concepts.records(params, args.reports))
    print(f"report: {len(params.studies)} studies -> {args.out}")


if __name__ == "__main__":
    main()
