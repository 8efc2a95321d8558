"""The network's compiled arithmetic: forward pass, loss with penalty, one optimizer step, an epoch of steps."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from stages.catalog.losses import LOSSES
from stages.catalog.optimizers import OPTIMIZERS
from stages.catalog.tasks import TASKS, Head
from stages.config import TrainConfig
from stages.ingest.arrays import Arrays
from stages.nn.fused import FusedOptimizer


class TrainingStep:
    """A Keras model's weights with the loss, penalty and optimizer that train them on in-memory data."""

    def __init__(self, cfg: TrainConfig, arrays: Arrays, head: Head, model: keras.Sequential,
                 shape: dict[str, int]):
        self.cfg, self.head, self.model = cfg, head, model
        self.task = TASKS.get(arrays.task)
        self.n_train, self.batch_size, self.n_batches = (shape[key] for key in ("n_train", "batch_size",
                                                                                  "steps_per_epoch"))
        self.dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        self.body = model.layers[:-1]  # everything but the output activation: yields logits
        self.has_dropout = any(isinstance(layer, keras.layers.Dropout) for layer in self.body)
        self.variables = model.trainable_variables
        self.loss_fn = LOSSES.get(cfg.loss).build(cfg)
        self.optimizer = FusedOptimizer(OPTIMIZERS.get(cfg.optimizer).build(cfg), self.variables)
        self.l1, self.l2 = tf.Variable(0.0, trainable=False), tf.Variable(0.0, trainable=False)
        self.dropout_rate = tf.Variable(0.0, trainable=False)
        self.kernel_weights = sum(int(np.prod(layer.kernel.shape)) for layer in self.dense)
        self.diagnostic_stride = diagnostic_stride(self.n_batches, self.kernel_weights)
        self.padding = self.n_batches * self.batch_size - self.n_train
        self.row_weights = tf.constant(np.r_[np.ones(self.n_train), np.zeros(self.padding)].reshape(
            self.n_batches, self.batch_size), tf.float32)
        self.data = {split: self._encode(arrays, split) for split in ("train", "val", "test")}
        # The rows the per-epoch validation curve is measured on: the whole split's tensors unless a budget cuts it
        self.data["val_curve"] = self.data["val"] if arrays.curve_rows is None else tuple(
            tf.gather(t, arrays.curve_rows) for t in self.data["val"])

    def _encode(self, arrays: Arrays, split: str) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """(features, loss targets (rows, units), labels or targets as float (rows,))."""
        y = arrays.y[split]
        if self.head.one_hot:
            target = np.eye(self.head.units, dtype=np.float32)[y]
        else:
            target = y.astype(np.float32)[:, None]
        return (tf.constant(arrays.x[split]), tf.constant(target), tf.constant(y.astype(np.float32)))

    def forward(self, x: tf.Tensor, rng: tf.Tensor | None = None, record: bool = False):
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

    def data_loss(self, target: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
        """The loss averaged over the rows, as Keras reduces it."""
        return tf.reduce_mean(self._per_example_loss(target, logits))

    def _per_example_loss(self, target: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
        """The Keras loss's value per row; softmax cross-entropy through TensorFlow's fused kernel (loss and
        gradient in one op, where Keras' version is ~40 small ops per step)."""
        if self.cfg.loss == "categorical_crossentropy":
            # The raw op, not tf.nn.softmax_cross_entropy_with_logits: that wrapper runs the same kernel but its
            # graph trains to different low-order bits (measured), and results must stay byte-identical.
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
        if not self.task.classes:
            return logits[:, 0] - label
        if self.head.one_hot:
            predicted = tf.cast(tf.argmax(logits, axis=1), tf.float32)
        else:
            predicted = tf.cast(logits[:, 0] > 0, tf.float32)
        return tf.cast(tf.equal(predicted, label), tf.float32)

    def evaluate_split(self, x, target, label) -> dict[str, tf.Tensor]:
        """Loss and metrics of the current weights on one split's tensors (dropout off)."""
        logits, _, _ = self.forward(x)
        scores = self._scores(target, label, logits)
        result = {"loss": self.data_loss(target, logits)}
        if self.task.classes:
            result["accuracy"] = tf.reduce_mean(scores)
        else:
            result.update(mae=tf.reduce_mean(tf.abs(scores)), rmse=tf.sqrt(tf.reduce_mean(tf.square(scores))))
        return result

    def _apply(self, grads: list[tf.Tensor], measure: bool) -> tuple[tf.Tensor, tf.Tensor]:
        """One optimizer update; with diagnostics and `measure`, each layer's kernel-gradient norm and
        update/weight ratio (zeros otherwise). Decided at trace time: an unmeasured step is bare."""
        if not (self.cfg.diagnostics and measure):
            self.optimizer.apply(grads)
            return tf.zeros([len(self.dense)]), tf.zeros([len(self.dense)])
        before = [tf.identity(layer.kernel) for layer in self.dense]
        self.optimizer.apply(grads)
        norms = tf.stack([tf.norm(g) for g in grads[0::2]])  # variables alternate kernel, bias per layer
        ratios = tf.stack([tf.norm(layer.kernel - old) / (tf.norm(old) + 1e-12)
                           for layer, old in zip(self.dense, before)])
        return norms, ratios

    def train_epoch(self, order: tf.Tensor, rng: tf.Tensor) -> tuple[tf.Tensor, ...]:
        """One epoch of steps over the rows in `order`: sums of (batch loss x rows, score, kernel-gradient norms,
        update ratios). Every batch has the same static shape, so XLA compiles one step: the last, smaller batch
        is padded with rows of weight 0."""
        batches = tf.reshape(tf.pad(order, [[0, self.padding]]), [self.n_batches, self.batch_size])
        zeros = tf.zeros([len(self.dense)])

        def step_of(step, sums, measure: bool):
            step_rng = tf.stack([rng[0], rng[1] * 1000003 + tf.cast(step, tf.int64)]) if self.has_dropout else None
            return step + 1, _add(sums, self._step(batches[step], self.row_weights[step], step_rng, measure))

        start = (tf.constant(0), (tf.constant(0.0), tf.constant(0.0), zeros, zeros))
        if self.diagnostic_stride == 1:
            return tf.while_loop(lambda step, _: step < self.n_batches, lambda *a: step_of(*a, True), start)[1]

        def block(step, sums):  # a measured step, then the unmeasured rest of its stride: no branch per step
            end = tf.minimum(step + self.diagnostic_stride, self.n_batches)
            return tf.while_loop(lambda inner, _: inner < end, lambda *a: step_of(*a, False),
                                 step_of(step, sums, True))

        return tf.while_loop(lambda step, _: step < self.n_batches, block, start)[1]

    def _step(self, index: tf.Tensor, weight: tf.Tensor, rng: tf.Tensor | None, measure: bool):
        """One optimizer step on the rows `index` weighted 1 (or 0: padding), dropout seeded by `rng`:
        (loss sum, score sum, grad norms, update ratios), the last two zero unless `measure`."""
        x, target, label = (tf.gather(t, index) for t in self.data["train"])
        rows = tf.reduce_sum(weight)
        with tf.GradientTape() as tape:
            logits, _, _ = self.forward(x, rng=rng)
            data_loss = tf.reduce_sum(self._per_example_loss(target, logits) * weight) / rows
            loss = data_loss + self._penalty()
        grad_norms, ratios = self._apply(tape.gradient(loss, self.variables), measure)
        scores = self._scores(target, label, logits)
        score = tf.reduce_sum((scores if self.task.classes else tf.abs(scores)) * weight)
        return data_loss * rows, score, grad_norms, ratios


# Steps per epoch whose gradient norm and update ratio are measured, at most: each measurement reduces over every
# weight, and XLA on CPU reduces one element at a time (~50 us for a 784x64 kernel, ten times a batch-1 step).
DIAGNOSTIC_STEPS = 256
# ... and kernel weights reduced per epoch (measured steps x weights), at most: measured 0.4 ms per step of a
# 784-128-128-128-128 net, where its training step takes 0.2 ms. The offline nets' epochs stay under it (largest:
# 131 steps x 58,624 weights), so every one of their steps is measured as before; at Kaggle size the 784-pixel
# first layer would make the measurements 2/3 of the deep nets' training time.
DIAGNOSTIC_WEIGHTS = 8_000_000


def diagnostic_stride(steps_per_epoch: int, weights: int = 0) -> int:
    """Measure every n-th step of an epoch (from its first), so that at most DIAGNOSTIC_STEPS are measured, and at
    most DIAGNOSTIC_WEIGHTS kernel weights (`weights` per measured step) are reduced."""
    most = max(1, min(DIAGNOSTIC_STEPS, DIAGNOSTIC_WEIGHTS // max(weights, 1)))
    return -(-steps_per_epoch // most)


def measured_steps(steps_per_epoch: int, weights: int = 0) -> int:
    """How many steps of an epoch `diagnostic_stride` measures."""
    return -(-steps_per_epoch // diagnostic_stride(steps_per_epoch, weights))


def _add(totals: tuple, values: tuple) -> tuple:
    return tuple(a + b for a, b in zip(totals, values))
