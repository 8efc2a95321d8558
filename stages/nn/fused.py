"""A Keras optimizer's update rule run on TensorFlow's fused training kernels: one op per variable and step."""
from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf


class FusedOptimizer:
    """Keras' SGD (with momentum), Adagrad, RMSprop and Adam formulas, fused; hyperparameters and
    gradient clipping come from the Keras optimizer itself, so the two cannot drift apart."""

    def __init__(self, reference: keras.optimizers.Optimizer, variables: Sequence[keras.Variable]):
        self.reference, self.kind = reference, type(reference).__name__
        self.initial = initial_slots(reference)
        self.variables = list(variables)
        self.learning_rate = tf.Variable(0.0, trainable=False, name="learning_rate")
        self.iterations = tf.Variable(0, dtype=tf.int64, trainable=False, name="iterations")
        self.slots = {name: [tf.Variable(tf.fill(v.shape, start), trainable=False) for v in self.variables]
                      for name, start in self.initial.items()}
        self.reset(float(reference.learning_rate))

    def reset(self, learning_rate: float) -> None:
        """Fresh state (step 0, initial slot values) and a new learning rate."""
        self.learning_rate.assign(learning_rate)
        self.iterations.assign(0)
        for name, start in self.initial.items():
            for slot in self.slots[name]:
                slot.assign(tf.fill(slot.shape, start))

    def apply(self, grads: Sequence[tf.Tensor]) -> None:
        """One step: clip as the Keras optimizer would, then update every variable in place."""
        grads = self.reference._clip_gradients(list(grads))
        self.iterations.assign_add(1)
        lr, opt = self.learning_rate.read_value(), self.reference  # read once, not once per variable
        if self.kind == "Adam":
            step = tf.cast(self.iterations, tf.float32)
            beta_1_power, beta_2_power = tf.pow(opt.beta_1, step), tf.pow(opt.beta_2, step)
        for index, (variable, grad) in enumerate(zip(self.variables, grads)):
            slot = {name: values[index].handle for name, values in self.slots.items()}
            if self.kind == "SGD" and opt.momentum == 0:
                tf.raw_ops.ResourceApplyGradientDescent(var=variable.handle, alpha=lr, delta=grad)
            elif self.kind == "SGD":
                tf.raw_ops.ResourceApplyKerasMomentum(var=variable.handle, accum=slot["momentum"], lr=lr, grad=grad,
                                                      momentum=opt.momentum, use_nesterov=opt.nesterov)
            elif self.kind == "Adagrad":  # Keras adds epsilon inside the root, the fused kernel outside: not fused
                accumulator = self.slots["accumulator"][index]
                accumulator.assign_add(tf.square(grad))
                variable.assign_sub(lr * grad / tf.sqrt(accumulator + opt.epsilon))
            elif self.kind == "RMSprop":
                tf.raw_ops.ResourceApplyRMSProp(var=variable.handle, ms=slot["velocity"], mom=slot["momentum"], lr=lr,
                                                rho=opt.rho, momentum=opt.momentum, epsilon=opt.epsilon, grad=grad)
            else:
                tf.raw_ops.ResourceApplyAdam(var=variable.handle, m=slot["m"], v=slot["v"], beta1_power=beta_1_power,
                                             beta2_power=beta_2_power, lr=lr, beta1=opt.beta_1, beta2=opt.beta_2,
                                             epsilon=opt.epsilon, grad=grad)


def initial_slots(opt: keras.optimizers.Optimizer) -> dict[str, float]:
    """The optimizer's state per variable: slot name -> initial value, as Keras initializes it."""
    kind = type(opt).__name__
    if kind == "SGD":
        return {"momentum": 0.0} if opt.momentum != 0 else {}
    if kind == "Adagrad":
        return {"accumulator": float(opt.initial_accumulator_value)}
    if kind == "RMSprop" and not opt.centered:
        return {"velocity": 0.0, "momentum": 0.0}
    if kind == "Adam":
        return {"m": 0.0, "v": 0.0}
    raise ValueError(f"no fused update for the Keras optimizer {kind}")
