"""The compiled training loop: one traced graph per variant, reused for every sweep point and seed."""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from stages.catalog import layers
from stages.catalog.optimizers import OPTIMIZERS
from stages.catalog.tasks import TASKS, head_for
from stages.nn.quiet import quiet_stderr
from stages.config import TrainConfig
from stages.ingest.arrays import Arrays

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
with quiet_stderr():  # TensorFlow prints start-up notices that no log level setting hides
    import keras
    import tensorflow as tf

from stages.nn import history, perturbation, runtime  # noqa: E402  (import TensorFlow themselves)
from stages.nn.network import build_mlp  # noqa: E402
from stages.nn.probe import Probe  # noqa: E402
from stages.nn.step import TrainingStep, measured_steps  # noqa: E402

XLA_MIN_STEPS = 20_000  # compile the training steps with XLA when a variant plans at least this many


@dataclass
class RunResult:
    """One training run: its per-epoch history, final measurements, and final weights."""

    point: dict[str, float]
    seed: int
    history: list[dict]
    final: dict
    weights: list[np.ndarray] = field(repr=False)
    seconds: float = 0.0
    steps: int = 0
    epoch_seconds: list[float] = field(default_factory=list)  # wall time since the start, per epoch


def training_shape(cfg: TrainConfig, arrays: Arrays) -> dict[str, int]:
    """What the runs' numbers depend on beyond params: data size, batch, steps per epoch, the noise probe's batch."""
    n_train = len(arrays.y["train"])
    batch_size = OPTIMIZERS.get(cfg.optimizer).batch_size(cfg, n_train)
    noise_batch = max(1, min(batch_size, min(cfg.probe_size, n_train) // 2))
    return {"n_train": n_train, "n_val": len(arrays.y["val"]), "n_test": len(arrays.y["test"]),
            "batch_size": batch_size, "steps_per_epoch": -(-n_train // batch_size),
            "noise_batch": noise_batch, "noise_batches": noise_batches(cfg, noise_batch),
            "noise_population": min(cfg.probe_size, n_train)}  # the probe set the noise batches are drawn from


# Examples one noise measurement may spend: config's `noise_batches` mini-batches, fewer for large batches (their
# spread is steadier, and 64 batches of 512 would cost twenty epochs of digits per measurement); never below 8.
NOISE_EXAMPLES = 8192


def noise_batches(cfg: TrainConfig, noise_batch: int) -> int:
    """How many mini-batches of `noise_batch` examples measure the gradient noise."""
    return min(cfg.noise_batches, max(8, NOISE_EXAMPLES // noise_batch))


def step_macs(cfg: TrainConfig, arrays: Arrays) -> int:
    """Multiply-adds of one training step's forward pass for this config and data."""
    units = head_for(arrays.task, cfg.loss, arrays.n_classes).units
    batch_size = training_shape(cfg, arrays)["batch_size"]
    return runtime.step_macs([arrays.x["train"].shape[1], *cfg.hidden, units], batch_size)


def new_engine(cfg: TrainConfig, arrays: Arrays, xla: bool | None = None) -> Engine:
    """Set this process's TensorFlow runtime (op determinism, threads for the step size), then build the Engine."""
    runtime.configure(step_macs(cfg, arrays))
    return Engine(cfg, arrays, xla)


class Engine:
    """Trains one variant's network; `run(point, seed)` resets weights and optimizer and trains again.
    `xla`: compile the training steps with XLA (None: when the variant's planned steps make it pay)."""

    def __init__(self, cfg: TrainConfig, arrays: Arrays, xla: bool | None = None):
        self.cfg, self.arrays, self.task = cfg, arrays, TASKS.get(arrays.task)
        head = head_for(arrays.task, cfg.loss, arrays.n_classes)
        shape = training_shape(cfg, arrays)
        self.n_train, self.n_batches = shape["n_train"], shape["steps_per_epoch"]
        self.model = build_mlp(cfg, arrays.x["train"].shape[1], head)
        self.step = TrainingStep(cfg, arrays, head, self.model, shape)
        self.probe = Probe(self.step, cfg.probe_size, shape["noise_batch"], shape["noise_batches"])
        # XLA fuses the many tiny ops of a small net's step (measured 1.3x faster at batch 32, 5x at batch 1), but
        # compiling takes ~1 s: worth it only for long jobs. The measurements' large graph is never compiled.
        planned_steps = len(cfg.runs()) * cfg.epochs * self.n_batches
        self.xla = planned_steps >= XLA_MIN_STEPS if xla is None else xla
        self.perturbation = perturbation.kind()  # "" outside the robustness check
        # autograph=False: every loop over tensors is an explicit tf.while_loop, and converting the Python
        # source instead took ~0.6 s of each engine's ~0.7 s trace.
        self._train_steps = tf.function(self.step.train_epoch, jit_compile=self.xla, autograph=False)
        self._measure_graph = tf.function(self._measure_all, autograph=False)
        spec = [tf.TensorSpec([None, arrays.x["train"].shape[1]], tf.float32),
                tf.TensorSpec([None, head.units], tf.float32), tf.TensorSpec([None], tf.float32)]
        self._evaluate = tf.function(self.step.evaluate_split, input_signature=spec, autograph=False)

    def _epoch(self, seed: int, epoch: int) -> dict:
        """Train one epoch, then measure: train loss and metric (running, as Keras reports them), validation
        scores and probe diagnostics."""
        # The order comes from NumPy: XLA's random numbers differ from TensorFlow's, and both paths must shuffle alike.
        order = tf.constant(np.random.default_rng([seed, epoch]).permutation(self.n_train).astype(np.int32))
        loss_sum, score_sum, grad_sum, ratio_sum = _numpy(self._train_steps(order, tf.constant([seed, epoch],
                                                                                                tf.int64)))
        measured = self._measure()
        measured.update(train_loss=loss_sum / self.n_train, train_metric=score_sum / self.n_train)
        if self.cfg.diagnostics:
            steps = measured_steps(self.n_batches, self.step.kernel_weights)
            measured.update(grad_norm=grad_sum / steps, update_ratio=ratio_sum / steps)
        return measured

    def _measure(self) -> dict:
        """Validation scores (on the curve's rows) and probe diagnostics of the current weights."""
        if not self.cfg.diagnostics:  # validation alone: the evaluation graph serves, no second trace
            return {"val": _numpy(self._evaluate(*self.step.data["val_curve"]))}
        return _numpy(self._measure_graph())

    def _measure_all(self) -> dict:
        return {"val": self.step.evaluate_split(*self.step.data["val_curve"]), **self.probe.measure()}

    def reset(self, point: dict[str, float], seed: int) -> TrainConfig:
        """Fresh weights from the initializer with this seed, fresh optimizer state, the point's settings."""
        cfg = self.cfg.at(point)
        initializer = layers.INITIALIZERS.get(cfg.initializer)
        for index, layer in enumerate(self.step.dense):
            kernel = initializer(cfg, layers.layer_seed(seed, index))(layer.kernel.shape)
            if self.perturbation:
                kernel = perturbation.initial_weights(np.asarray(kernel), self.perturbation)
            layer.kernel.assign(kernel)
            layer.bias.assign(tf.zeros_like(layer.bias))
        self.step.optimizer.reset(cfg.learning_rate)
        l1, l2 = layers.penalty_strengths(cfg)
        self.step.l1.assign(l1)
        self.step.l2.assign(l2)
        self.step.dropout_rate.assign(cfg.dropout)
        for layer in self.model.layers:
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = cfg.dropout  # so a saved model states the rate it was trained with
        return cfg

    def evaluate(self, split: str) -> dict[str, float]:
        """Loss and metrics of the current weights on one split (dropout off)."""
        return {key: float(value) for key, value in self._evaluate(*self.step.data[split]).items()}

    def run(self, point: dict[str, float], seed: int,
            on_epoch: Callable[[int], None] | None = None) -> RunResult:
        """Train from scratch with one sweep point and seed; a non-finite loss ends the run as diverged."""
        cfg = self.reset(point, seed)
        start = time.perf_counter()
        first = self.evaluate("train")
        rows = [history.epoch_row(self.task, 0, 0, self._measure(), first["loss"], first[self.task.metric])]
        elapsed = [time.perf_counter() - start]
        diverged_epoch = None
        for epoch in range(1, cfg.epochs + 1):
            measured = self._epoch(seed, epoch)
            row = history.epoch_row(self.task, epoch, epoch * self.n_batches, measured, measured.pop("train_loss"),
                                    measured.pop("train_metric"))
            rows.append(row)
            elapsed.append(time.perf_counter() - start)
            if on_epoch:
                on_epoch(epoch)
            if row["train_loss"] is None or row["val_loss"] is None:
                diverged_epoch = epoch
                break
        seconds = time.perf_counter() - start
        sparsity = history.weight_sparsity([layer.kernel.numpy() for layer in self.step.dense],
                                           self.arrays.constant_inputs)
        scores = {split: self.evaluate(split) for split in ("train", "val", "test")}
        final = history.final_summary(cfg, self.task, rows, diverged_epoch, scores, sparsity)
        return RunResult(point, seed, rows, final, [w.numpy() for w in self.model.weights], seconds,
                         rows[-1]["step"], elapsed)


def _numpy(tree):
    return tf.nest.map_structure(lambda t: t.numpy(), tree)
