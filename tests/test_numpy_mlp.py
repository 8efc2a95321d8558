"""The NumPy reference: its chain-rule gradients equal TensorFlow's and central finite differences."""
from __future__ import annotations

import numpy as np
import pytest

from stages.reference import backprop
from tests.configs import train_config
from stages.catalog.losses import LOSSES
from stages.catalog.tasks import head_for

# (task, loss) pairs the pipeline allows, with the classes each task has here.
CASES = [("multiclass", "categorical_crossentropy"), ("multiclass", "mse"), ("binary", "binary_crossentropy"),
         ("binary", "categorical_crossentropy"), ("binary", "mse"), ("regression", "mse"),
         ("regression", "mae"), ("regression", "huber")]
CLASSES = {"multiclass": 4, "binary": 2, "regression": 1}
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")


def problem(task: str, loss: str, seed: int = 0):
    """A random batch, encoded targets, and the head the pipeline would use."""
    rng = np.random.default_rng(seed)
    head = head_for(task, loss, CLASSES[task])
    x = rng.normal(size=(7, 5))
    if task == "regression":
        target = rng.normal(size=(7, 1)) * 2
    else:
        labels = rng.integers(0, CLASSES[task], size=7)
        target = np.eye(head.units)[labels] if head.one_hot else labels[:, None].astype(float)
    return x, target, head


def keras_gradients(cfg: TrainConfig, x, target, head):
    """Weights of a float64 Keras build_mlp, and TensorFlow's loss and gradients for them."""
    import keras
    import tensorflow as tf

    from stages.nn.network import build_mlp

    # Layers follow the global dtype policy and losses the floatx current at their creation.
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    try:
        model = build_mlp(cfg, x.shape[1], head, seed=3)
        loss_fn = LOSSES.get(cfg.loss).build(cfg)
    finally:
        keras.config.set_floatx("float32")
        keras.config.set_dtype_policy("float32")
    with tf.GradientTape() as tape:
        logits = _logits(model, tf.constant(x))
        value = loss_fn(target, logits if head.from_logits else model.layers[-1](logits))
    grads = tape.gradient(value, model.trainable_variables)
    layers = [(w.numpy(), b.numpy()) for w, b in zip(model.trainable_variables[0::2], model.trainable_variables[1::2])]
    return layers, float(value), [g.numpy() for g in grads]


def _logits(model, x):
    h = x
    for layer in model.layers[:-1]:
        h = layer(h)
    return h


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("task, loss", CASES)
def test_numpy_gradients_equal_tensorflow(activation, task, loss):
    cfg = train_config(dataset="fashion_mnist", hidden=[6, 5], activation=activation, loss=loss,
                       initializer="glorot_normal", negative_slope=0.1, huber_delta=0.7)
    x, target, head = problem(task, loss)
    layers, tf_loss, tf_grads = keras_gradients(cfg, x, target, head)
    np_loss, np_grads = backprop.loss_and_gradients(layers, x, target, activation=activation, loss=loss,
                                                     head=head.activation, slope=0.1, delta=0.7)
    assert abs(np_loss - tf_loss) <= 1e-9 * max(1.0, abs(tf_loss))
    flat = [g for pair in np_grads for g in pair]
    assert max(relative_error(a, b) for a, b in zip(flat, tf_grads)) < 1e-6


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("task, loss", CASES[::2] + [("regression", "huber")])
def test_numpy_gradients_equal_finite_differences(activation, task, loss):
    x, target, head = problem(task, loss, seed=1)
    rng = np.random.default_rng(2)
    layers = [(rng.normal(size=(5, 4)) * 0.7, rng.normal(size=4) * 0.1),
              (rng.normal(size=(4, head.units)) * 0.7, rng.normal(size=head.units) * 0.1)]
    options = dict(activation=activation, loss=loss, head=head.activation, slope=0.1, delta=0.7)
    _, analytic = backprop.loss_and_gradients(layers, x, target, **options)
    numeric = backprop.numerical_gradients(layers, x, target, **options)
    for (dw, db), (nw, nb) in zip(analytic, numeric):
        assert relative_error(dw, nw) < 1e-6 and relative_error(db, nb) < 1e-6


def test_relu_gradient_is_zero_below_the_kink():
    z = np.array([[-2.0, -1e-9, 1e-9, 3.0]])
    assert backprop.ACTIVATIONS["relu"][1](z, 0.0).tolist() == [[0, 0, 1, 1]]
    assert backprop.ACTIVATIONS["leaky_relu"][1](z, 0.2).tolist() == [[0.2, 0.2, 1, 1]]
