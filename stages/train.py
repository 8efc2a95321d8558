"""Stage `train`: one variant, every sweep point and seed in one process; models, curves and metrics out."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from stages import aggregate, atomic, config
from stages.errors import ParamsError, stage_entry
from stages.progress import Progress

# Curves logged per epoch with DVCLive (mean over seeds of the chosen sweep point, and their std).
CURVES = ("train_loss", "val_loss", "train_metric", "val_metric", "noise_ratio", "noise_scale")
LAYER_CURVES = ("grad_norm", "update_ratio", "preact_grad_norm", "dead_fraction", "saturated_fraction")


def resolve(params: config.Params, study: str) -> tuple[config.TrainConfig, str]:
    """The experiment a study names, and the params key path its values come from."""
    if study != "defaults":
        raise ParamsError(f"unknown study {study!r}; allowed: defaults")
    return params.defaults, "defaults"


def check_fits_data(cfg: config.TrainConfig, path: str, n_train: int) -> None:
    """A batch larger than the training split is a params error, caught before any training."""
    from stages.optimizers import OPTIMIZERS

    if OPTIMIZERS.get(cfg.optimizer).batch == "config" and cfg.batch_size > n_train:
        raise ParamsError(f"{config.PARAMS_FILE}: {path}.batch_size: {cfg.batch_size} is larger than the "
                          f"{n_train} training rows of {cfg.dataset}; allowed: 1..{n_train}")


def train_variant(cfg: config.TrainConfig, path: str, data: Path, label: str) -> tuple:
    """Train every (sweep point, seed); return the engine (holding the last weights), runs and timings."""
    started = time.perf_counter()
    from stages import engine  # TensorFlow loads here, once for all runs

    arrays = engine.load_arrays(data, cfg)
    check_fits_data(cfg, path, len(arrays.y["train"]))
    trainer = engine.Engine(cfg, arrays)
    points = cfg.points()
    progress = Progress(label, len(points) * len(cfg.seeds) * cfg.epochs)
    runs = []
    for point in points:
        for seed in cfg.seeds:
            run = trainer.run(point, seed, on_epoch=lambda _: progress.advance())
            progress.finished(run, trainer.task, cfg.epochs)
            runs.append(run)
    progress.close()
    timing = {"runs": [{"setting": r.point, "seed": r.seed, "seconds": round(r.seconds, 4), "steps": r.steps}
                       for r in runs],
              "training_seconds": round(sum(r.seconds for r in runs), 4),
              "process_seconds": round(time.perf_counter() - started, 4)}
    return trainer, runs, timing


def summarize(runs: list, cfg: config.TrainConfig, task: str) -> tuple[dict, list]:
    """The variant's metrics: every sweep point over seeds, and the chosen point's values at top level."""
    from stages.engine import higher_is_better

    better = higher_is_better(task)
    by_point = [[r for r in runs if r.point == point] for point in cfg.points()]
    points = [aggregate.summarize_point(group, better) for group in by_point]
    chosen = aggregate.choose(points)
    chosen_runs = by_point[points.index(chosen)]
    summary = {key: value for key, value in chosen.items() if key not in ("setting", "seeds", "score")}
    summary.update(metric="accuracy" if better else "mae", higher_is_better=better,
                   best_setting=chosen["setting"], points=points)
    return summary, chosen_runs


def write_models(trainer, chosen_runs: list, cfg: config.TrainConfig, summary: dict, out: Path) -> None:
    """One .keras file per seed of the chosen point, and the resolved config beside them."""
    with atomic.staged_dir(out) as staging:
        trainer.reset(summary["best_setting"], 0)
        for run in chosen_runs:
            trainer.model.set_weights(run.weights)
            trainer.model.save(staging / f"seed_{run.seed}.keras")
        atomic.write_json(staging / "config.json", {"config": cfg.at(summary["best_setting"]).model_dump(),
                                                    "best_setting": summary["best_setting"]})


def write_reports(runs: list, chosen_runs: list, summary: dict, timing: dict, out: Path) -> None:
    """DVCLive curves and metrics.json for the chosen point; every run's history; timings apart."""
    from dvclive import Live

    with atomic.staged_dir(out) as staging:
        curves = {key: aggregate.mean_curve(chosen_runs, key) for key in CURVES}
        for key in LAYER_CURVES:
            layers = max(len(row.get(key) or []) for r in chosen_runs for row in r.history)
            for layer in range(layers):
                curves[f"{key}/layer_{layer}"] = aggregate.mean_curve(chosen_runs, key, layer)
        with Live(str(staging), dvcyaml=False, save_dvc_exp=False, report=None) as live:
            for epoch in range(max(len(r.history) for r in chosen_runs)):
                for name, curve in curves.items():
                    point = next((p for p in curve if p[0] == epoch), None)
                    if point is not None:
                        live.log_metric(name, point[1])
                        live.log_metric(f"{name}_std", point[2])
                live.next_step()
            live.summary.clear()
            live.summary.update(summary)
        atomic.write_json(staging / "history.json", {"runs": [
            {"setting": r.point, "seed": r.seed, "final": r.final, "history": r.history} for r in runs]})
        atomic.write_json(staging / "timing.json", timing)


@stage_entry
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=(
        "Reads params.yaml and DATA/{train,val,test}.npz. Writes MODELS/seed_<n>.keras and config.json; "
        "OUT/metrics.json, OUT/plots/metrics/*.tsv (DVCLive), OUT/history.json and OUT/timing.json."))
    parser.add_argument("--study", required=True, help="'defaults' (the base experiment)")
    parser.add_argument("--data", type=Path, required=True, help="a data/processed/<dataset> folder")
    parser.add_argument("--models", type=Path, required=True, help="folder for the trained models")
    parser.add_argument("--out", type=Path, required=True, help="folder for metrics and curves")
    args = parser.parse_args(argv)
    params = config.load()
    cfg, path = resolve(params, args.study)
    trainer, runs, timing = train_variant(cfg, path, args.data, args.study)
    summary, chosen_runs = summarize(runs, cfg, trainer.task)
    write_models(trainer, chosen_runs, cfg, summary, args.models)
    write_reports(runs, chosen_runs, summary, timing, args.out)
    print(f"train {args.study}: best {summary['best_setting']}: val {summary['metric']} "
          f"{summary['val_metric']} ± {summary['val_metric_std']}, test {summary['test_metric']} "
          f"({len(runs)} runs, {timing['training_seconds']:.1f} s training)", file=sys.stdout)


if __name__ == "__main__":
    main()
