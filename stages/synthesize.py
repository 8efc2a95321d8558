"""Stage `synthesize`: the 2-D sets of the foundations study, made by seed -> data/synthetic/<name>.npz."""
from __future__ import annotations

import argparse
from pathlib import Path

from stages import config
from stages.ingest.synthetic import synthesize
from stages.common.errors import stage_entry


@stage_entry
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog="Reads params.yaml (foundations.samples, "
                                     "data_seed, spread, moons_noise). Writes OUT/{separable,xor,moons}.npz "
                                     "(x (n, 2), y 0/1, and a fresh test draw x_test, y_test) and OUT/meta.json.")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    meta = synthesize(config.load().foundations, args.out)
    print(f"synthesize: {', '.join(meta['sets'])} ({meta['samples']} points each) -> {args.out}")


if __name__ == "__main__":
    main()
