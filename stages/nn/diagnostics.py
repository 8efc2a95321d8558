"""What Keras `fit` does not show: per-layer gradient norms, dead and saturated units, gradient noise."""
from __future__ import annotations

import tensorflow as tf

# A unit counts as saturated on an example when its activation's slope there is below this share of
# the activation's steepest slope (sigmoid: output outside ~[0.026, 0.974]; tanh: |output| > ~0.949).
SATURATION_SLOPE = 0.1


def _unless_non_finite(share: tf.Tensor, activations: tf.Tensor) -> tf.Tensor:
    """NaN instead of a share when any activation is NaN or infinite: a diverged net's units are not dead or
    saturated, they are undefined (NaN > 0 is false, so NaN units would otherwise read as dead)."""
    finite = tf.reduce_all(tf.math.is_finite(activations))
    return tf.where(finite, share, tf.constant(float("nan")))


def dead_fraction(activations: tf.Tensor) -> tf.Tensor:
    """Share of units that never pass a positive signal on the probe batch (ReLU: output 0 for all;
    Leaky ReLU: negative for all). activations: (examples, units)."""
    alive = tf.reduce_any(activations > 0, axis=0)
    return _unless_non_finite(1.0 - tf.reduce_mean(tf.cast(alive, tf.float32)), activations)


def saturated_fraction(activations: tf.Tensor, activation: str) -> tf.Tensor:
    """Share of (example, unit) pairs on the flat part of a sigmoid or tanh. activations: (examples, units)."""
    if activation == "sigmoid":
        relative_slope = activations * (1.0 - activations) / 0.25
    else:  # tanh
        relative_slope = 1.0 - tf.square(activations)
    return _unless_non_finite(tf.reduce_mean(tf.cast(relative_slope < SATURATION_SLOPE, tf.float32)), activations)


def symmetric(preactivations: tf.Tensor) -> tf.Tensor:
    """1 when every unit of the layer computes the same pre-activation on every probe example (a symmetric start
    such as all-zero weights: the units are copies and get the same gradients, whether or not they also pass no
    signal), else 0. Dead units differ here: their pre-activations differ, all below zero. (examples, units)."""
    spread = tf.reduce_max(preactivations, axis=1) - tf.reduce_min(preactivations, axis=1)  # across units
    return tf.cast(tf.reduce_all(spread == 0.0), tf.float32)


def constant_output(outputs: tf.Tensor) -> tf.Tensor:
    """1 when the net gives every probe example the same output (a "born dead" or collapsed net, Lu et al. 2019:
    some layer passes no signal, so the input cannot matter), else 0. outputs: (examples, outputs)."""
    return tf.cast(tf.reduce_all(tf.reduce_max(outputs, axis=0) == tf.reduce_min(outputs, axis=0)), tf.float32)


def gradient_noise(full_squared_norm: tf.Tensor, spread: tf.Tensor, batch_size: int,
                   population: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Noise of mini-batch gradients G_B around the full-batch gradient G of a `population` set.

    `spread` is E|G_B - G|^2 over batches of `batch_size` drawn without replacement, and
    `full_squared_norm` is |G|^2. Returns (noise_ratio, noise_scale): sqrt(E|G_B - G|^2) / |G| at
    this batch size, and the simple noise scale tr(Sigma) / |G|^2 of McCandlish et al. (2018), with
    tr(Sigma) recovered from E|G_B - G|^2 = tr(Sigma)/B * (N - B)/(N - 1).
    """
    trace_sigma = spread * batch_size * (population - 1) / max(population - batch_size, 1)
    return tf.sqrt(spread / full_squared_norm), trace_sigma / full_squared_norm
