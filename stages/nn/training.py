"""A variant's training: every condition, sweep point and seed trained, summarized, saved and logged."""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from stages.analysis import replicates
from stages.catalog.optimizers import OPTIMIZERS
from stages.catalog.tasks import TASKS, head_for
from stages.common import atomic
from stages.common.errors import ParamsError
from stages.nn.progress import Progress
from stages.config import PARAMS_FILE, Params, TrainConfig, study_configs
from stages.ingest.arrays import load_arrays
from stages.nn import engine, parallel  # TensorFlow is imported here but not started: workers fork from here
from stages.nn.network import build_mlp

# Curves logged per epoch with DVCLive (mean over seeds of the chosen sweep point, and their std).
CURVES = ("train_loss", "val_loss", "train_metric", "val_metric", "noise_ratio", "noise_scale")
LAYER_CURVES = ("grad_norm", "update_ratio", "preact_grad_norm", "dead_fraction", "saturated_fraction",
                "symmetric")


def check_fits_data(cfg: TrainConfig, where: str, n_train: int) -> None:
    """A batch larger than the training split is a params error, caught before any training."""
    if OPTIMIZERS.get(cfg.optimizer).batch == "config" and cfg.batch_size > n_train:
        raise ParamsError(f"{PARAMS_FILE}: {where}: batch_size: {cfg.batch_size} is larger than the "
                          f"{n_train} training rows of {cfg.dataset}; allowed: 1..{n_train}")


def plan_condition(cfg: TrainConfig, where: str, data: Path) -> tuple:
    """A condition's data, checked against its config, and its worker count, before anything trains."""
    arrays = load_arrays(data, cfg)
    check_fits_data(cfg, where, len(arrays.y["train"]))
    return arrays, parallel.worker_count(engine.step_macs(cfg, arrays), len(cfg.runs()))


def train_condition(cfg: TrainConfig, arrays, workers: int, label: str) -> tuple[list, dict, dict]:
    """Train every (sweep point, seed) of one config on up to `workers` processes: the runs in (point, seed)
    order, the training's shape and the timings."""
    started = time.perf_counter()
    jobs = cfg.runs()
    progress = Progress(label, len(jobs) * cfg.epochs, len(jobs))
    runs, workers = parallel.train_runs(cfg, arrays, jobs, workers, on_epoch=lambda _: progress.advance(),
                                        on_run=lambda run: progress.finished(run, TASKS.get(arrays.task).metric, cfg.epochs),
                                        on_wait=progress.still_training)
    progress.close()
    seconds = time.perf_counter() - started
    timing = {"runs": [{"setting": r.point, "seed": r.seed, "seconds": round(r.seconds, 4), "steps": r.steps,
                        "epoch_seconds": [round(t, 4) for t in r.epoch_seconds]} for r in runs],
              "workers": workers, "run_seconds": round(sum(r.seconds for r in runs), 4),
              "training_seconds": round(seconds, 4)}  # wall time: engines, tracing and runs, on every worker
    return runs, engine.training_shape(cfg, arrays), timing


def summarize(runs: list, cfg: TrainConfig, task: str) -> tuple[dict, list]:
    """The variant's metrics: every sweep point over seeds, and the chosen point's values at top level."""
    spec = TASKS.get(task)
    by_point = [[r for r in runs if r.point == point] for point in cfg.points()]
    points = [replicates.summarize_point(group, spec.higher_is_better, cfg.select_on) for group in by_point]
    chosen = replicates.choose(points)
    chosen_runs = by_point[points.index(chosen)]
    summary = {key: value for key, value in chosen.items() if key not in ("setting", "seeds", "score")}
    summary.update(metric=spec.metric, higher_is_better=spec.higher_is_better, target=cfg.target,
                   select_on=cfg.select_on,
                   best_setting=chosen["setting"], points=points)
    return summary, chosen_runs


def write_models(cfg: TrainConfig, arrays, chosen_runs: list, summary: dict, folder: Path) -> None:
    """One .keras file per seed of the chosen point, and the resolved config beside them."""
    folder.mkdir(parents=True, exist_ok=True)
    chosen = cfg.at(summary["best_setting"])
    model = build_mlp(chosen, arrays.x["train"].shape[1],
                      head_for(arrays.task, chosen.loss, arrays.n_classes))
    for run in chosen_runs:
        model.set_weights(run.weights)
        model.save(folder / f"seed_{run.seed}.keras")
    atomic.write_json(folder / "config.json", {"config": chosen.model_dump(), "best_setting": summary["best_setting"]})


def write_reports(runs: list, chosen_runs: list, summary: dict, folder: Path) -> None:
    """DVCLive curves and metrics.json for the chosen point; every run's history."""
    from dvclive import Live

    folder.mkdir(parents=True, exist_ok=True)
    histories = [r.history for r in chosen_runs]
    curves = {key: replicates.mean_curve(histories, key) for key in CURVES}
    for key in LAYER_CURVES:
        layers = max(len(row.get(key) or []) for history in histories for row in history)
        for layer in range(layers):
            curves[f"{key}/layer_{layer}"] = replicates.mean_curve(histories, key, layer)
    # DVCLive logs into a scratch folder outside the work tree, copied into the staged output afterwards: inside
    # `dvc exp run`, Live.end() `git add`s every untracked file under its folder that is not a DVC output, and the
    # staging folder is not one, so an interrupted experiment left those files in git's index and the next
    # `dvc exp run` refused to start (DVCLive 3.49, dvclive/live.py: end -> ensure_dir_is_tracked).
    with tempfile.TemporaryDirectory(prefix="dvclive-") as scratch:
        with Live(scratch, dvcyaml=False, save_dvc_exp=False, report=None) as live:
            epochs = max(len(r.history) for r in chosen_runs)
            points = {name: {p[0]: p for p in curve} for name, curve in curves.items()}
            for epoch in range(epochs):
                # Setting the step, where next_step() would also rewrite metrics.json after every epoch (a second
                # per 120 epochs): the training is over, so only the final summary is worth writing.
                live.step = epoch
                for name, by_epoch in points.items():
                    if epoch in by_epoch:
                        live.log_metric(name, by_epoch[epoch][1])
                        live.log_metric(f"{name}_std", by_epoch[epoch][2])
            live.step = epochs  # as after the last next_step(): metrics.json's "step" counts the epochs logged
            live.summary.clear()
            live.summary.update(summary)
        shutil.copytree(scratch, folder, dirs_exist_ok=True)
    atomic.write_json(folder / "history.json", {"runs": [
        {"setting": r.point, "seed": r.seed, "final": r.final, "history": r.history} for r in runs]})


def train_variant(params: Params, study: str, variant: str, data: Path, models: Path, out: Path,
                  timings: Path) -> None:
    """Train every condition of one variant; write MODELS, OUT and TIMINGS whole, or leave them untouched. The
    wall-clock timings live in their own output: a retrain with the same results leaves OUT's hash, and so every
    stage downstream of it, unchanged."""
    conditions = []
    for condition, cfg in study_configs(params, study, variant):
        label = "/".join(filter(None, (study, variant, condition)))
        where = f"studies.{study} (variant {variant}" + (f", condition {condition})" if condition else ")")
        conditions.append((condition, cfg, label, *plan_condition(cfg, where, data)))
    # Every condition trains before anything is saved: saving starts TensorFlow here, and workers cannot fork after.
    trained = [train_condition(cfg, arrays, workers, label) for _, cfg, label, arrays, workers in conditions]
    with (atomic.staged_dir(models) as model_folder, atomic.staged_dir(out) as report_folder,
          atomic.staged_dir(timings) as timing_folder):
        for (condition, cfg, label, arrays, _), (runs, shape, timing) in zip(conditions, trained):
            summary, chosen_runs = summarize(runs, cfg, arrays.task)
            summary.update(shape)
            write_models(cfg, arrays, chosen_runs, summary, model_folder / condition)
            write_reports(runs, chosen_runs, summary, report_folder / condition)
            atomic.write_json(timing_folder / condition / "timing.json", timing)
            print(f"train {label}: best {summary['best_setting']}: val {summary['metric']} "
                  f"{summary['val_metric']} ± {summary['val_metric_std']}, test {summary['test_metric']} "
                  f"({len(runs)} runs, {timing['training_seconds']:.1f} s training on {timing['workers']} "
                  f"process{'es' if timing['workers'] > 1 else ''})", flush=True)
