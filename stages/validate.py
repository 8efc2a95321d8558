"""Stage `validate`: check params.yaml before any other stage may touch its outputs."""
from __future__ import annotations

import argparse
from pathlib import Path

from stages.common import atomic
from stages import config
from stages.common.errors import stage_entry

# Constant on purpose: every stage depends on this file, so a valid edit re-runs only the stages
# whose own params changed, while an invalid one stops the pipeline here, before outputs are deleted.
STAMP = "params.yaml passed validation\n"


@stage_entry
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog="Reads params.yaml. Writes STAMP.")
    parser.add_argument("--stamp", type=Path, required=True, help="file written when params are valid")
    args = parser.parse_args(argv)
    config.load()
    atomic.write_text(args.stamp, STAMP)
    print(f"validate: {config.PARAMS_FILE} is valid")


if __name__ == "__main__":
    main()
