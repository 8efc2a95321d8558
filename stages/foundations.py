"""Stage `foundations`: perceptron, single neuron and MLP on 2-D sets; probes of a 10-class net's hidden layers."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from stages import config
from stages.basics import models as foundations_models
from stages.common import atomic
from stages.common.errors import stage_entry
from stages.analysis.tables import write_tsv
from stages.ingest.synthetic import GENERATORS
from stages.basics import figures as foundations_figures


def load_sets(folder: Path) -> dict[str, dict[str, np.ndarray]]:
    """{name: {x, y, x_test, y_test}} for every synthetic set."""
    return {name: dict(np.load(folder / f"{name}.npz")) for name in GENERATORS.names}


def foundations(params: config.Params, synthetic: Path, data: Path, out: Path) -> dict:
    """Run everything and write OUT/summary.json, OUT/curves/*.tsv, OUT/figures/*.png and OUT/timing.json."""
    from stages.basics.probing import probe_layers  # imports TensorFlow: only once params are known to be valid

    spec, cfg = params.foundations, config.representation_config(params)
    sets = load_sets(synthetic)
    started = time.perf_counter()
    summary, fitted = foundations_models.linear_models(spec, sets, cfg.seeds)
    probe_summary, curves, projections = probe_layers(spec, cfg, data)
    # Fitting the perceptrons, neurons and MLPs, the probed net and its layers' linear probes: this stage's training,
    # kept apart from summary.json (it differs on every run) for pipeline_timing.
    timing = {"training_seconds": round(time.perf_counter() - started, 4)}
    summary.update(probe_summary)
    summary.update(foundations_models.probe_gains(summary, params.report))
    with atomic.staged_dir(out / "curves") as curve_dir, atomic.staged_dir(out / "figures") as figure_dir:
        write_tsv(curve_dir / "probe_accuracy.tsv",
                  ["epoch", "input"] + [f"hidden_{i + 1}" for i in range(curves["layers"])], curves["table"])
        write_tsv(curve_dir / "reliability.tsv", ["confidence", "accuracy", "count"],
                  [[b["confidence"], b["accuracy"], b["count"]] for b in curves["bins"]])
        foundations_figures.draw(spec, sets, fitted, curves, projections, figure_dir)
        atomic.write_json(out / "summary.json", summary)
    atomic.write_json(out / "timing.json", timing)
    return summary


@stage_entry
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=(
        "Reads params.yaml (foundations, defaults), SYNTHETIC/*.npz and DATA/{train,val,test}.npz. Writes "
        "OUT/summary.json, OUT/curves/{probe_accuracy,reliability}.tsv, OUT/figures/*.png and OUT/timing.json "
        "(seconds spent fitting models)."))
    parser.add_argument("--synthetic", type=Path, required=True, help="folder written by synthesize")
    parser.add_argument("--data", type=Path, required=True, help="the probed dataset's data/processed folder")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    summary = foundations(config.load(), args.synthetic, args.data, args.out)
    last = max(key for key in summary["probe"] if key.startswith("hidden_"))
    print(f"foundations: perceptron converged on the separable set in "
          f"{summary['perceptron']['separable']['converged_runs']} runs; probe accuracy {last} "
          f"{summary['probe'][last]['final']} vs raw input {summary['probe']['input']} -> {args.out}")


if __name__ == "__main__":
    main()
