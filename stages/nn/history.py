"""A run's record: one row of numbers per epoch, and its final summary; rounded, NaN and Inf as None."""
from __future__ import annotations

import numpy as np

from stages.catalog.tasks import TaskSpec
from stages.common.numbers import round_sig
from stages.config import TrainConfig

SPARSE_SHARE = 0.01  # a weight below this share of its layer's largest |w| counts as pruned
DIAGNOSTICS = ("grad_norm", "update_ratio", "probe_grad_norm", "preact_grad_norm", "activation_std",
               "dead_fraction", "saturated_fraction", "symmetric", "constant_output", "noise_ratio", "noise_scale")
AT_INIT = ("probe_grad_norm", "preact_grad_norm", "activation_std", "dead_fraction", "saturated_fraction",
           "symmetric", "constant_output")


def finite(value):
    """A number or array as (lists of) numbers rounded for stable, readable files; NaN and Inf become None."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim:
        return [finite(v) for v in array]
    return round_sig(float(array))


def epoch_row(task: TaskSpec, epoch: int, step: int, measured: dict, train_loss: float,
              train_metric: float) -> dict:
    """One epoch's row: train and validation loss and metric, then every diagnostic (None where not measured)."""
    val = measured.pop("val")
    row = {"epoch": epoch, "step": step, "train_loss": finite(train_loss), "train_metric": finite(train_metric),
           "val_loss": finite(val["loss"]), "val_metric": finite(val[task.metric])}
    if not task.classes:
        row["val_rmse"] = finite(val["rmse"])
    for key in DIAGNOSTICS:
        value = measured.get(key)
        row[key] = None if value is None else finite(value)
    return row


def final_summary(cfg: TrainConfig, task: TaskSpec, history: list[dict], diverged_epoch: int | None,
                  scores: dict[str, dict[str, float]], sparsity: float | None) -> dict:
    """The run's final numbers: divergence, epochs to target, best epoch, sparsity, the initial diagnostics,
    and loss and metric on every split (`scores`: split -> the engine's evaluation of the final weights)."""
    better = task.higher_is_better
    finite_rows = [row for row in history if row["val_metric"] is not None]
    best = (max if better else min)(finite_rows, key=lambda row: row["val_metric"]) if finite_rows else None
    reached = None
    if cfg.target is not None:
        reached = next((row["epoch"] for row in history if row["val_metric"] is not None and
                        (row["val_metric"] >= cfg.target if better else row["val_metric"] <= cfg.target)), None)
    final = {"diverged": diverged_epoch is not None, "diverged_epoch": diverged_epoch,
             "epochs_to_target": reached,
             "best_val_metric": best["val_metric"] if best else None,
             "best_epoch": best["epoch"] if best else None,
             "weight_sparsity": sparsity,
             "init": {key: history[0][key] for key in AT_INIT}}
    trained = [row["train_loss"] for row in history[1:]]
    # The area under the training-loss curve per epoch, and the loss after one epoch: an optimizer's speed.
    final["train_loss_auc"] = finite(np.mean(trained)) if trained and None not in trained else None
    final["train_loss_epoch_1"] = trained[0] if trained else None
    for split in ("train", "val", "test"):
        final[f"{split}_loss"] = finite(scores[split]["loss"])
        final[f"{split}_metric"] = finite(scores[split][task.metric])
        if not task.classes:
            final[f"{split}_rmse"] = finite(scores[split]["rmse"])
    if final["train_metric"] is not None and final["val_metric"] is not None:
        gap = final["train_metric"] - final["val_metric"]
        final["generalization_gap"] = finite(gap if better else -gap)
    else:
        final["generalization_gap"] = None
    if diverged_epoch is not None:  # the weights are not finite: no metric of them means anything
        for key in ("train", "val", "test"):
            final[f"{key}_metric"] = final[f"{key}_loss"] = None
    return final


def weight_sparsity(kernels: list[np.ndarray], constant_inputs: np.ndarray) -> float | None:
    """Share of kernel weights below SPARSE_SHARE of their layer's largest |w| (inputs that never vary left out)."""
    kernels = [kernels[0][~constant_inputs], *kernels[1:]]
    if not all(np.isfinite(k).all() for k in kernels):
        return None
    small = sum(int((np.abs(k) < SPARSE_SHARE * np.abs(k).max()).sum()) for k in kernels if k.size)
    return finite(small / sum(k.size for k in kernels))
