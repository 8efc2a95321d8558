"""The compiled training loop: one traced graph per variant, reused for every sweep point and seed."""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stages import losses, models, runtime
from stages.config import TrainConfig
from stages.datasets import DATASETS
from stages.optimizers import OPTIMIZERS
from stages.statistics import round_sig
from stages.quiet import quiet_stderr

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
with quiet_stderr():  # TensorFlow prints start-up notices that no log level setting hides
    import keras
    import tensorflow as tf

from stages import diagnostics  # noqa: E402  (imports TensorFlow itself)
from stages.fused import FusedOptimizer  # noqa: E402

NOISE_BATCHES = 8  # mini-batches drawn from the probe set to measure gradient noise
SPARSE_SHARE = 0.01  # a weight below this share of its layer's largest |w| counts as pruned
XLA_MIN_STEPS = 20_000  # compile the training steps with XLA when a variant plans at least this many


@dataclass(frozen=True)
class Arrays:
    """A processed dataset in memory: features (rows, features) float32; labels or targets (rows,)."""

    task: str
    n_classes: int
    x: dict[str, np.ndarray]  # split -> features
    y: dict[str, np.ndarray]  # split -> class index (int) or standardized target (float)
    constant_inputs: np.ndarray  # (features,) bool: no variation in the training split


def load_arrays(folder: Path | str, cfg: TrainConfig) -> Arrays:
    """Read data/processed/<dataset>/ and keep the config's share of the training split."""
    folder = Path(folder)
    task = DATASETS.get(cfg.dataset).task
    splits = {name: np.load(folder / f"{name}.npz") for name in ("train", "val", "test")}
    x = {name: split["x"] for name, split in splits.items()}
    y = {name: split["y"] for name, split in splits.items()}
    if cfg.train_fraction < 1:
        # One fixed subset for every seed: replicates differ in initialization and order, not data.
        rows = max(2, round(cfg.train_fraction * len(y["train"])))
        keep = np.sort(np.random.default_rng(0).permutation(len(y["train"]))[:rows])
        x["train"], y["train"] = x["train"][keep], y["train"][keep]
    if cfg.outlier_share > 0:  # one-sided gross errors in the training targets only; val/test stay clean
        hit = np.random.default_rng(1).permutation(len(y["train"]))[:round(cfg.outlier_share * len(y["train"]))]
        y["train"] = y["train"].copy()
        y["train"][hit] += np.float32(cfg.outlier_scale)
    n_classes = int(max(y[s].max() for s in y)) + 1 if task != "regression" else 1
    return Arrays(task, n_classes, x, y, x["train"].std(axis=0) == 0)


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
    return {"n_train": n_train, "batch_size": batch_size, "steps_per_epoch": -(-n_train // batch_size),
            "noise_batch": max(1, min(batch_size, min(cfg.probe_size, n_train) // 2))}


def step_macs(cfg: TrainConfig, arrays: Arrays) -> int:
    """Multiply-adds of one training step's forward pass for this config and data."""
    units = losses.head_for(arrays.task, cfg.loss, arrays.n_classes).units
    batch_size = training_shape(cfg, arrays)["batch_size"]
    return runtime.step_macs([arrays.x["train"].shape[1], *cfg.hidden, units], batch_size)


def higher_is_better(task: str) -> bool:
    """Accuracy rises, regression error falls."""
    return task != "regression"


class Engine:
    """Trains one variant's network; `run(point, seed)` resets weights and optimizer and trains again.
    `xla`: compile the training steps with XLA (None: when the variant's planned steps make it pay)."""

    def __init__(self, cfg: TrainConfig, arrays: Arrays, xla: bool | None = None):
        self.cfg, self.arrays, self.task = cfg, arrays, arrays.task
        self.head = losses.head_for(arrays.task, cfg.loss, arrays.n_classes)
        shape = training_shape(cfg, arrays)
        self.n_train, self.batch_size, self.n_batches, self.noise_batch = (
            shape[key] for key in ("n_train", "batch_size", "steps_per_epoch", "noise_batch"))
        runtime.configure(step_macs(cfg, arrays))
        self.model = models.build_mlp(cfg, arrays.x["train"].shape[1], self.head)
        self.dense = [layer for layer in self.model.layers if isinstance(layer, keras.layers.Dense)]
        self.body = self.model.layers[:-1]  # everything but the output activation: yields logits
        self.has_dropout = any(isinstance(layer, keras.layers.Dropout) for layer in self.body)
        self.variables = self.model.trainable_variables
        self.activation = models.ACTIVATIONS.get(cfg.activation)
        self.loss_fn = losses.LOSSES.get(cfg.loss).build(cfg)
        self.optimizer = FusedOptimizer(OPTIMIZERS.get(cfg.optimizer).build(cfg), self.variables)
        self.l1, self.l2 = tf.Variable(0.0, trainable=False), tf.Variable(0.0, trainable=False)
        self.dropout_rate = tf.Variable(0.0, trainable=False)
        self.padding = self.n_batches * self.batch_size - self.n_train
        self.row_weights = tf.constant(np.r_[np.ones(self.n_train), np.zeros(self.padding)].reshape(
            self.n_batches, self.batch_size), tf.float32)
        self.data = {split: self._encode(split) for split in ("train", "val", "test")}
        self._setup_probe()
        # XLA fuses the many tiny ops of a small net's step (measured 1.3x faster at batch 32, 5x at batch 1), but
        # compiling takes ~1 s: worth it only for long jobs. The measurements' large graph is never compiled.
        planned_steps = len(cfg.runs()) * cfg.epochs * self.n_batches
        self.xla = planned_steps >= XLA_MIN_STEPS if xla is None else xla
        # autograph=False: every loop over tensors is an explicit tf.while_loop, and converting the Python
        # source instead took ~0.6 s of each engine's ~0.7 s trace.
        self._train_steps = tf.function(self._train_epoch, jit_compile=self.xla, autograph=False)
        self._measure_graph = tf.function(self._measure_probe, autograph=False)
        spec = [tf.TensorSpec([None, arrays.x["train"].shape[1]], tf.float32),
                tf.TensorSpec([None, self.head.units], tf.float32), tf.TensorSpec([None], tf.float32)]
        self._evaluate = tf.function(self._evaluate_split, input_signature=spec, autograph=False)

    # --- data -------------------------------------------------------------------------------

    def _encode(self, split: str) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """(features, loss targets (rows, units), labels or targets as float (rows,))."""
        y = self.arrays.y[split]
        if self.head.one_hot:
            target = np.eye(self.head.units, dtype=np.float32)[y]
        else:
            target = y.astype(np.float32)[:, None]
        return (tf.constant(self.arrays.x[split]), tf.constant(target), tf.constant(y.astype(np.float32)))

    def _setup_probe(self) -> None:
        """A fixed probe batch from the training split, and fixed mini-batches drawn from it."""
        rng = np.random.default_rng(12345)
        size = min(self.cfg.probe_size, self.n_train)
        index = np.sort(rng.permutation(self.n_train)[:size])
        self.probe = tuple(tf.gather(t, index) for t in self.data["train"])
        self.noise_index = tf.constant(np.stack([np.sort(rng.permutation(size)[:self.noise_batch])
                                                 for _ in range(NOISE_BATCHES)]))  # (batches, batch size)

    # --- the network ------------------------------------------------------------------------

    def _forward(self, x: tf.Tensor, rng: tf.Tensor | None = None, record: bool = False):
        """Logits (rows, units); with `record`, also hidden pre-activations and activations."""
        h, pre, post = x, [], []
        for index, layer in enumerate(self.body):
            if isinstance(layer, keras.layers.Dropout):
                if rng is not None:  # training: inverted dropout with a rate held in a variable
                    # philox: XLA's default generator on CPU made a dropout epoch ~20x slower. Masks differ with
                    # and without XLA (their generators differ), so a variant's compile mode is fixed by its config.
                    noise = tf.random.stateless_uniform(tf.shape(h), seed=rng + [0, index], alg="philox")
                    keep = noise >= self.dropout_rate
                    h = tf.where(keep, h / (1.0 - self.dropout_rate), 0.0)
                continue
            h = layer(h)
            if record and layer.name.startswith("hidden_"):
                pre.append(h)
            elif record and index + 1 < len(self.body):
                post.append(h)
        return h, pre, post

    def _data_loss(self, target: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
        """The loss averaged over the rows, as Keras reduces it."""
        return tf.reduce_mean(self._per_example_loss(target, logits))

    def _per_example_loss(self, target: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
        """The Keras loss's value per row; softmax cross-entropy through TensorFlow's fused kernel (loss and
        gradient in one op, where Keras' version is ~40 small ops per step)."""
        if self.cfg.loss == "categorical_crossentropy":
            return tf.raw_ops.SoftmaxCrossEntropyWithLogits(features=logits, labels=target)[0]
        return self.loss_fn.call(target, logits if self.head.from_logits else self.model.layers[-1](logits))

    def _penalty(self) -> tf.Tensor:
        """The weight penalty of keras.regularizers.L1L2 on every kernel, with strengths in variables."""
        if self.cfg.regularizer == "none":
            return tf.constant(0.0)
        kernels = [layer.kernel for layer in self.dense]
        return (self.l1 * tf.add_n([tf.reduce_sum(tf.abs(k)) for k in kernels])
                + self.l2 * tf.add_n([tf.reduce_sum(tf.square(k)) for k in kernels]))

    def _scores(self, target: tf.Tensor, label: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
        """Per-example score: 1/0 correct for classification, prediction error for regression."""
        if self.task == "regression":
            return logits[:, 0] - label
        if self.head.one_hot:
            predicted = tf.cast(tf.argmax(logits, axis=1), tf.float32)
        else:
            predicted = tf.cast(logits[:, 0] > 0, tf.float32)
        return tf.cast(tf.equal(predicted, label), tf.float32)

    # --- compiled pieces -------------------------------------------------------------------

    def _evaluate_split(self, x, target, label):
        logits, _, _ = self._forward(x)
        scores = self._scores(target, label, logits)
        result = {"loss": self._data_loss(target, logits)}
        if self.task == "regression":
            result.update(mae=tf.reduce_mean(tf.abs(scores)), rmse=tf.sqrt(tf.reduce_mean(tf.square(scores))))
        else:
            result["accuracy"] = tf.reduce_mean(scores)
        return result

    def _apply(self, grads: list[tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor]:
        """One optimizer update; with diagnostics, each layer's kernel-gradient norm and update/weight ratio."""
        if not self.cfg.diagnostics:  # decided at trace time: without diagnostics the step is bare
            self.optimizer.apply(grads)
            return tf.zeros([len(self.dense)]), tf.zeros([len(self.dense)])
        before = [tf.identity(layer.kernel) for layer in self.dense]
        self.optimizer.apply(grads)
        norms = tf.stack([tf.norm(g) for g in grads[0::2]])  # variables alternate kernel, bias per layer
        ratios = tf.stack([tf.norm(layer.kernel - old) / (tf.norm(old) + 1e-12)
                           for layer, old in zip(self.dense, before)])
        return norms, ratios

    def _train_epoch(self, order: tf.Tensor, rng: tf.Tensor) -> tuple[tf.Tensor, ...]:
        """One epoch of steps over the rows in `order`: sums of (batch loss x rows, score, kernel-gradient norms,
        update ratios). Every batch has the same static shape, so XLA compiles one step: the last, smaller batch
        is padded with rows of weight 0."""
        batches = tf.reshape(tf.pad(order, [[0, self.padding]]), [self.n_batches, self.batch_size])
        zeros = tf.zeros([len(self.dense)])

        def body(step, sums):
            step_rng = tf.stack([rng[0], rng[1] * 1000003 + tf.cast(step, tf.int64)]) if self.has_dropout else None
            return step + 1, _add(sums, self._step(batches[step], self.row_weights[step], step_rng))

        _, sums = tf.while_loop(lambda step, _: step < self.n_batches, body,
                                (tf.constant(0), (tf.constant(0.0), tf.constant(0.0), zeros, zeros)))
        return sums

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
            measured.update(grad_norm=grad_sum / self.n_batches, update_ratio=ratio_sum / self.n_batches)
        return measured

    def _step(self, index: tf.Tensor, weight: tf.Tensor, rng: tf.Tensor | None):
        """One optimizer step on the rows `index` weighted 1 (or 0: padding), dropout seeded by `rng`:
        (loss sum, score sum, grad norms, update ratios)."""
        x, target, label = (tf.gather(t, index) for t in self.data["train"])
        rows = tf.reduce_sum(weight)
        with tf.GradientTape() as tape:
            logits, _, _ = self._forward(x, rng=rng)
            data_loss = tf.reduce_sum(self._per_example_loss(target, logits) * weight) / rows
            loss = data_loss + self._penalty()
        grad_norms, ratios = self._apply(tape.gradient(loss, self.variables))
        scores = self._scores(target, label, logits)
        score = tf.reduce_sum((tf.abs(scores) if self.task == "regression" else scores) * weight)
        return data_loss * rows, score, grad_norms, ratios

    def _measure(self) -> dict:
        """Validation scores and probe diagnostics of the current weights."""
        if not self.cfg.diagnostics:  # validation alone: the evaluation graph serves, no second trace
            return {"val": _numpy(self._evaluate(*self.data["val"]))}
        return _numpy(self._measure_graph())

    def _measure_probe(self):
        result = {"val": self._evaluate_split(*self.data["val"])}
        if not self.cfg.diagnostics:
            return result
        x, target, _ = self.probe
        with tf.GradientTape() as tape:
            logits, pre, post = self._forward(x, record=True)
            loss = self._data_loss(target, logits)
        grads = tape.gradient(loss, self.variables + pre)
        full = grads[:len(self.variables)]
        result.update(
            probe_grad_norm=tf.stack([tf.norm(g) for g in full[0::2]]),
            preact_grad_norm=tf.stack([tf.norm(g) for g in grads[len(self.variables):]] or [tf.zeros([])]),
            activation_std=tf.stack([tf.math.reduce_std(a) for a in post] or [tf.zeros([])]),
        )
        if self.activation.family == "relu":
            result["dead_fraction"] = tf.stack([diagnostics.dead_fraction(a) for a in post] or [tf.zeros([])])
        else:
            result["saturated_fraction"] = tf.stack(
                [diagnostics.saturated_fraction(a, self.cfg.activation) for a in post] or [tf.zeros([])])
        def add_batch(batch, spread):
            index = self.noise_index[batch]
            with tf.GradientTape() as tape:
                logits, _, _ = self._forward(tf.gather(x, index))
                loss = self._data_loss(tf.gather(target, index), logits)
            grads = tape.gradient(loss, self.variables)
            return batch + 1, spread + tf.add_n([tf.reduce_sum(tf.square(g - f)) for g, f in zip(grads, full)])

        _, spread = tf.while_loop(lambda batch, _: batch < NOISE_BATCHES, add_batch,
                                  (tf.constant(0), tf.constant(0.0)))
        ratio, scale = diagnostics.gradient_noise(tf.square(diagnostics.global_norm(full)),
                                                  spread / NOISE_BATCHES, self.noise_batch, int(x.shape[0]))
        result.update(noise_ratio=ratio, noise_scale=scale)
        return result

    # --- runs ---------------------------------------------------------------------------------

    def reset(self, point: dict[str, float], seed: int) -> TrainConfig:
        """Fresh weights from the initializer with this seed, fresh optimizer state, the point's settings."""
        cfg = self.cfg.at(point)
        initializer = models.INITIALIZERS.get(cfg.initializer)
        for index, layer in enumerate(self.dense):
            layer.kernel.assign(initializer(cfg, seed * 1000 + index)(layer.kernel.shape))
            layer.bias.assign(tf.zeros_like(layer.bias))
        self.optimizer.reset(cfg.learning_rate)
        l1, l2 = models.penalty_strengths(cfg)
        self.l1.assign(l1)
        self.l2.assign(l2)
        self.dropout_rate.assign(cfg.dropout)
        for layer in self.model.layers:
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = cfg.dropout  # so a saved model states the rate it was trained with
        return cfg

    def evaluate(self, split: str) -> dict[str, float]:
        """Loss and metrics of the current weights on one split (dropout off)."""
        return {key: float(value) for key, value in self._evaluate(*self.data[split]).items()}

    def run(self, point: dict[str, float], seed: int,
            on_epoch: Callable[[int], None] | None = None) -> RunResult:
        """Train from scratch with one sweep point and seed; a non-finite loss ends the run as diverged."""
        cfg = self.reset(point, seed)
        metric = "accuracy" if self.task != "regression" else "mae"
        start = time.perf_counter()
        first = self.evaluate("train")
        history = [self._row(0, 0, self._measure(), first["loss"], first[metric])]
        elapsed = [time.perf_counter() - start]
        diverged_epoch = None
        for epoch in range(1, cfg.epochs + 1):
            measured = self._epoch(seed, epoch)
            row = self._row(epoch, epoch * self.n_batches, measured, measured.pop("train_loss"),
                            measured.pop("train_metric"))
            history.append(row)
            elapsed.append(time.perf_counter() - start)
            if on_epoch:
                on_epoch(epoch)
            if row["train_loss"] is None or row["val_loss"] is None:
                diverged_epoch = epoch
                break
        seconds = time.perf_counter() - start
        final = self._final(cfg, history, diverged_epoch)
        return RunResult(point, seed, history, final, [w.numpy() for w in self.model.weights], seconds,
                         history[-1]["step"], elapsed)

    def _row(self, epoch: int, step: int, measured: dict, train_loss: float, train_metric: float) -> dict:
        val = measured.pop("val")
        metric = "accuracy" if self.task != "regression" else "mae"
        row = {"epoch": epoch, "step": step, "train_loss": _finite(train_loss),
               "train_metric": _finite(train_metric), "val_loss": _finite(val["loss"]),
               "val_metric": _finite(val[metric])}
        if self.task == "regression":
            row["val_rmse"] = _finite(val["rmse"])
        for key in ("grad_norm", "update_ratio", "probe_grad_norm", "preact_grad_norm", "activation_std",
                    "dead_fraction", "saturated_fraction", "noise_ratio", "noise_scale"):
            value = measured.get(key)
            row[key] = None if value is None else _finite(value)
        return row

    def _final(self, cfg: TrainConfig, history: list[dict], diverged_epoch: int | None) -> dict:
        better = higher_is_better(self.task)
        finite = [row for row in history if row["val_metric"] is not None]
        best = (max if better else min)(finite, key=lambda row: row["val_metric"]) if finite else None
        reached = None
        if cfg.target is not None:
            reached = next((row["epoch"] for row in history if row["val_metric"] is not None and
                            (row["val_metric"] >= cfg.target if better else row["val_metric"] <= cfg.target)),
                           None)
        final = {"diverged": diverged_epoch is not None, "diverged_epoch": diverged_epoch,
                 "epochs_to_target": reached,
                 "best_val_metric": best["val_metric"] if best else None,
                 "best_epoch": best["epoch"] if best else None,
                 "weight_sparsity": self.weight_sparsity(),
                 "init": {key: history[0][key] for key in ("probe_grad_norm", "preact_grad_norm",
                                                           "activation_std", "dead_fraction",
                                                           "saturated_fraction")}}
        metric = "accuracy" if self.task != "regression" else "mae"
        for split in ("train", "val", "test"):
            scores = self.evaluate(split)
            final[f"{split}_loss"] = _finite(scores["loss"])
            final[f"{split}_metric"] = _finite(scores[metric])
            if self.task == "regression":
                final[f"{split}_rmse"] = _finite(scores["rmse"])
        if final["train_metric"] is not None and final["val_metric"] is not None:
            gap = final["train_metric"] - final["val_metric"]
            final["generalization_gap"] = _finite(gap if better else -gap)
        else:
            final["generalization_gap"] = None
        if diverged_epoch is not None:  # the weights are not finite: no metric of them means anything
            for key in ("train", "val", "test"):
                final[f"{key}_metric"] = final[f"{key}_loss"] = None
        return final

    def weight_sparsity(self) -> float | None:
        """Share of kernel weights below SPARSE_SHARE of their layer's largest |w| (constant inputs left out)."""
        kernels = [layer.kernel.numpy() for layer in self.dense]
        kernels[0] = kernels[0][~self.arrays.constant_inputs]
        if not all(np.isfinite(k).all() for k in kernels):
            return None
        small = sum(int((np.abs(k) < SPARSE_SHARE * np.abs(k).max()).sum()) for k in kernels if k.size)
        return _finite(small / sum(k.size for k in kernels))


def _add(totals: tuple, values: tuple) -> tuple:
    return tuple(a + b for a, b in zip(totals, values))


def _numpy(tree):
    return tf.nest.map_structure(lambda t: t.numpy(), tree)


def _finite(value):
    """A number or array as (lists of) numbers rounded for stable, readable files; NaN and Inf become None."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim:
        return [_finite(v) for v in array]
    return round_sig(float(array))
