"""Diagnostics on a fixed probe batch: per-layer gradient norms, activation spread, dead or saturated units,
and the noise of mini-batch gradients."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from stages.catalog.layers import ACTIVATIONS
from stages.nn import diagnostics
from stages.nn.step import TrainingStep

PROBE_SEED = 12345  # one probe batch for every run, seed and variant of a dataset


def global_norm(tensors: list[tf.Tensor]) -> tf.Tensor:
    """L2 norm of a list of tensors taken as one vector. Not tf.linalg.global_norm: that sums halved squares in
    another order, and its last bits moved the deep nets' noise measurements (measured)."""
    return tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(t)) for t in tensors]))


class Probe:
    """A fixed probe batch from the training split, and fixed mini-batches drawn from it."""

    def __init__(self, step: TrainingStep, probe_size: int, noise_batch: int, noise_batches: int):
        self.step, self.noise_batch, self.noise_batches = step, noise_batch, noise_batches
        self.activation = ACTIVATIONS.get(step.cfg.activation)
        rng = np.random.default_rng(PROBE_SEED)
        size = min(probe_size, step.n_train)
        index = np.sort(rng.permutation(step.n_train)[:size])
        self.batch = tuple(tf.gather(t, index) for t in step.data["train"])
        self.noise_index = tf.constant(np.stack([np.sort(rng.permutation(size)[:noise_batch])
                                                 for _ in range(noise_batches)]))  # (batches, batch size)

    def measure(self) -> dict[str, tf.Tensor]:
        """Gradient norms per layer (weights and pre-activations), activation spread, dead or saturated share,
        and the gradient noise ratio and scale, of the current weights."""
        step, variables = self.step, self.step.variables
        x, target, _ = self.batch
        with tf.GradientTape() as tape:
            logits, pre, post = step.forward(x, record=True)
            loss = step.data_loss(target, logits)
        grads = tape.gradient(loss, variables + pre)
        full = grads[:len(variables)]
        result = {
            "probe_grad_norm": tf.stack([tf.norm(g) for g in full[0::2]]),
            "preact_grad_norm": tf.stack([tf.norm(g) for g in grads[len(variables):]] or [tf.zeros([])]),
            "activation_std": tf.stack([tf.math.reduce_std(a) for a in post] or [tf.zeros([])]),
            "symmetric": tf.stack([diagnostics.symmetric(z) for z in pre] or [tf.zeros([])]),
            "constant_output": diagnostics.constant_output(logits),
        }
        if self.activation.family == "relu":
            result["dead_fraction"] = tf.stack([diagnostics.dead_fraction(a) for a in post] or [tf.zeros([])])
        else:
            result["saturated_fraction"] = tf.stack(
                [diagnostics.saturated_fraction(a, step.cfg.activation) for a in post] or [tf.zeros([])])

        def add_batch(batch, spread):
            index = self.noise_index[batch]
            with tf.GradientTape() as tape:
                logits, _, _ = step.forward(tf.gather(x, index))
                loss = step.data_loss(tf.gather(target, index), logits)
            grads = tape.gradient(loss, variables)
            return batch + 1, spread + tf.add_n([tf.reduce_sum(tf.square(g - f)) for g, f in zip(grads, full)])

        batches = self.noise_batches
        _, spread = tf.while_loop(lambda batch, _: batch < batches, add_batch,
                                  (tf.constant(0), tf.constant(0.0)))
        ratio, scale = diagnostics.gradient_noise(tf.square(global_norm(full)),
                                                  spread / batches, self.noise_batch, int(x.shape[0]))
        result.update(noise_ratio=ratio, noise_scale=scale)
        return result
