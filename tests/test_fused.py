"""The fused optimizer steps follow the Keras optimizers' own formulas, state, defaults and clipping."""
from __future__ import annotations

import numpy as np
import pytest

from tests.configs import train_config
from stages.catalog.optimizers import OPTIMIZERS

tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from stages.nn.fused import FusedOptimizer, initial_slots  # noqa: E402

CASES = [("batch_gd", {}), ("sgd", {}), ("minibatch_sgd", {}), ("momentum", {"momentum": 0.9}),
         ("momentum", {"momentum": 0.9, "nesterov": True}), ("adagrad", {}), ("rmsprop", {}), ("adam", {}),
         ("adam", {"global_clipnorm": 0.5}), ("rmsprop", {"rho": 0.5, "epsilon": 1e-3})]


def variables(seed: int) -> list[keras.Variable]:
    rng = np.random.default_rng(seed)
    return [keras.Variable(rng.normal(size=shape).astype(np.float32)) for shape in ((5, 3), (3,))]


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_fused_steps_equal_keras_apply_gradients(name, settings):
    cfg = train_config(dataset="fashion_mnist", optimizer=name, learning_rate=0.05, **settings)
    fused_vars, keras_vars = variables(0), variables(0)
    fused = FusedOptimizer(OPTIMIZERS.get(name).build(cfg), fused_vars)
    reference = OPTIMIZERS.get(name).build(cfg)
    rng = np.random.default_rng(1)
    step = tf.function(fused.apply)
    for _ in range(6):  # several steps: bias corrections and accumulated state must agree too
        grads = [tf.constant(rng.normal(size=v.shape).astype(np.float32) * 3) for v in fused_vars]
        step(grads)
        reference.apply_gradients(zip(grads, keras_vars))
    for mine, theirs in zip(fused_vars, keras_vars):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=2e-5, atol=1e-6)
    assert int(fused.iterations.numpy()) == int(reference.iterations.numpy()) == 6


def test_reset_restores_the_initial_state_and_sets_the_learning_rate():
    cfg = train_config(dataset="fashion_mnist", optimizer="adagrad", learning_rate=0.1)
    fused = FusedOptimizer(OPTIMIZERS.get("adagrad").build(cfg), variables(0))
    fused.apply([tf.ones([5, 3]), tf.ones([3])])
    fused.reset(0.25)
    assert fused.learning_rate.numpy() == np.float32(0.25) and fused.iterations.numpy() == 0
    assert all(np.all(slot.numpy() == np.float32(0.1)) for slot in fused.slots["accumulator"])


def test_an_optimizer_without_a_fused_step_is_refused():
    with pytest.raises(ValueError, match="Lion"):
        initial_slots(keras.optimizers.Lion())
