"""Stage `train_<study>@<variant>`: every condition, sweep point and seed of one variant in one process."""
from __future__ import annotations

import argparse
from pathlib import Path

from stages import config
from stages.common.errors import stage_entry
from stages.nn import perturbation


@stage_entry
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=(
        "Reads params.yaml (defaults; studies.STUDY: dataset, set, conditions, variants.VARIANT) and "
        "DATA/<the study's dataset>/{train,val,test}.npz. Writes, per condition "
        "of the study (a subfolder when it has conditions): MODELS/seed_<n>.keras and config.json; "
        "OUT/metrics.json and OUT/plots/metrics/*.tsv (DVCLive), OUT/history.json; TIMING/timing.json."))
    parser.add_argument("--study", required=True, help="a study under `studies:` in params.yaml")
    parser.add_argument("--variant", required=True, help="a key of the study's `variants:`")
    parser.add_argument("--data", type=Path, required=True, help="data/processed: the study's dataset is read from "
                        "its folder there")
    parser.add_argument("--models", type=Path, required=True, help="folder for the trained models")
    parser.add_argument("--out", type=Path, required=True, help="folder for metrics, curves and histories")
    parser.add_argument("--timing", type=Path, required=True, help="folder for the wall-clock timings (kept apart: "
                        "they differ on every run)")
    args = parser.parse_args(argv)
    params = config.load()
    perturbation.kind()  # an unknown perturbation is named before any work starts
    from stages.nn.training import train_variant  # imports TensorFlow: only once params are known to be valid

    data = args.data / config.get_study(params, args.study).dataset
    train_variant(params, args.study, args.variant, data, args.models, args.out, args.timing)


if __name__ == "__main__":
    main()
