"""`build_mlp`: a Keras MLP from Keras names; the activation, initializer and regularizer registries."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from stages.registry import Registry

if TYPE_CHECKING:  # keras is imported lazily: config validation must not load TensorFlow
    import keras

    from stages.config import TrainConfig
    from stages.losses import Head


@dataclass(frozen=True)
class ActivationSpec:
    """A hidden activation: how to build its Keras layer and which failure it is prone to."""

    family: Literal["saturating", "relu"]  # saturating units go flat; relu-family units die
    layer: Callable[[TrainConfig], keras.layers.Layer]


def _keras_activation(name: str) -> Callable[[TrainConfig], keras.layers.Layer]:
    def build(cfg: TrainConfig) -> keras.layers.Layer:
        import keras

        return keras.layers.Activation(name)

    return build


def _leaky_relu(cfg: TrainConfig) -> keras.layers.Layer:
    import keras

    return keras.layers.LeakyReLU(negative_slope=cfg.negative_slope)


ACTIVATIONS: Registry[ActivationSpec] = Registry("activation", {
    "sigmoid": ActivationSpec("saturating", _keras_activation("sigmoid")),
    "tanh": ActivationSpec("saturating", _keras_activation("tanh")),
    "relu": ActivationSpec("relu", _keras_activation("relu")),
    "leaky_relu": ActivationSpec("relu", _leaky_relu),
})


def _initializer(class_name: str, **config) -> Callable[[TrainConfig, int], keras.initializers.Initializer]:
    def build(cfg: TrainConfig, seed: int) -> keras.initializers.Initializer:
        import keras

        options = {key: getattr(cfg, value) for key, value in config.items()}
        if class_name != "Zeros":
            options["seed"] = seed
        return keras.initializers.get({"class_name": class_name, "config": options})

    return build


INITIALIZERS: Registry[Callable[[TrainConfig, int], keras.initializers.Initializer]] = Registry(
    "initializer", {
        "glorot_uniform": _initializer("GlorotUniform"),
        "glorot_normal": _initializer("GlorotNormal"),
        "he_uniform": _initializer("HeUniform"),
        "he_normal": _initializer("HeNormal"),
        "random_normal": _initializer("RandomNormal", stddev="init_stddev"),  # a failure control
        "zeros": _initializer("Zeros"),  # a failure control: every unit of a layer stays the same
    })

# name -> which penalties apply; strengths come from params `l1` and `l2`, as in keras.regularizers.
REGULARIZERS: Registry[tuple[bool, bool]] = Registry("regularizer", {
    "none": (False, False), "l1": (True, False), "l2": (False, True), "l1_l2": (True, True),
})


def penalty_strengths(cfg: TrainConfig) -> tuple[float, float]:
    """The (l1, l2) strengths the config's regularizer applies; 0 where it applies none."""
    use_l1, use_l2 = REGULARIZERS.get(cfg.regularizer)
    return (cfg.l1 if use_l1 else 0.0, cfg.l2 if use_l2 else 0.0)


def build_mlp(cfg: TrainConfig, n_inputs: int, head: Head, seed: int = 0) -> keras.Sequential:
    """Dense -> activation (-> dropout) per hidden width, then the task's output layer and activation."""
    import keras

    l1, l2 = penalty_strengths(cfg)
    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2) if cfg.regularizer != "none" else None
    initializer = INITIALIZERS.get(cfg.initializer)
    layers: list[keras.layers.Layer] = [keras.Input((n_inputs,))]
    for index, width in enumerate(cfg.hidden):
        layers.append(keras.layers.Dense(width, kernel_initializer=initializer(cfg, seed * 1000 + index),
                                         kernel_regularizer=regularizer, name=f"hidden_{index}"))
        layers.append(ACTIVATIONS.get(cfg.activation).layer(cfg))
        if cfg.dropout > 0 or "dropout" in cfg.sweep:
            layers.append(keras.layers.Dropout(cfg.dropout))
    layers.append(keras.layers.Dense(head.units, kernel_regularizer=regularizer, name="output",
                                     kernel_initializer=initializer(cfg, seed * 1000 + len(cfg.hidden))))
    layers.append(keras.layers.Activation(head.activation, name="probabilities"
                                          if head.activation != "linear" else "prediction"))
    return keras.Sequential(layers, name="mlp")
