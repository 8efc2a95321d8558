"""Hidden-layer registries by Keras name: activations, initializers, regularizers; and the per-layer seed rule."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from stages.common.registry import Registry

if TYPE_CHECKING:  # keras is imported lazily: config validation must not load TensorFlow
    import keras

Settings = Any  # a stages.config.Settings: the catalog sits below config and reads only its fields


@dataclass(frozen=True)
class ActivationSpec:
    """A hidden activation: how to build its Keras layer and which failure it is prone to."""

    family: Literal["saturating", "relu"]  # saturating units go flat; relu-family units die
    layer: Callable[[Settings], keras.layers.Layer]


def _keras_activation(name: str) -> Callable[[Settings], keras.layers.Layer]:
    def build(cfg: Settings) -> keras.layers.Layer:
        import keras

        return keras.layers.Activation(name)

    return build


def _leaky_relu(cfg: Settings) -> keras.layers.Layer:
    import keras

    return keras.layers.LeakyReLU(negative_slope=cfg.negative_slope)


ACTIVATIONS: Registry[ActivationSpec] = Registry("activation", {
    "sigmoid": ActivationSpec("saturating", _keras_activation("sigmoid")),
    "tanh": ActivationSpec("saturating", _keras_activation("tanh")),
    "relu": ActivationSpec("relu", _keras_activation("relu")),
    "leaky_relu": ActivationSpec("relu", _leaky_relu),
})


def _initializer(class_name: str, fixed: dict | None = None,
                 **config: str) -> Callable[[Settings, int], keras.initializers.Initializer]:
    """A Keras initializer by class name: `fixed` options as given, `config` options read from the settings."""
    def build(cfg: Settings, seed: int) -> keras.initializers.Initializer:
        import keras

        options = {**(fixed or {}), **{key: getattr(cfg, value) for key, value in config.items()}}
        if class_name != "Zeros":
            options["seed"] = seed
        return keras.initializers.get({"class_name": class_name, "config": options})

    return build


INITIALIZERS: Registry[Callable[[Settings, int], keras.initializers.Initializer]] = Registry(
    "initializer", {
        "glorot_uniform": _initializer("GlorotUniform"),
        "glorot_normal": _initializer("GlorotNormal"),
        "he_uniform": _initializer("HeUniform"),
        "he_normal": _initializer("HeNormal"),
        # Glorot & Bengio's "standard" U[-1/sqrt(fan_in), 1/sqrt(fan_in)]: variance 1/(3 fan_in), the scale
        # under which their deep sigmoid nets saturated.
        "standard_uniform": _initializer("VarianceScaling", {"scale": 1 / 3, "mode": "fan_in",
                                                             "distribution": "uniform"}),
        "random_normal": _initializer("RandomNormal", stddev="init_stddev"),  # a failure control
        "zeros": _initializer("Zeros"),  # a failure control: every unit of a layer stays the same
    })

# name -> which penalties apply; strengths come from params `l1` and `l2`, as in keras.regularizers.
REGULARIZERS: Registry[tuple[bool, bool]] = Registry("regularizer", {
    "none": (False, False), "l1": (True, False), "l2": (False, True), "l1_l2": (True, True),
})


def penalty_strengths(cfg: Settings) -> tuple[float, float]:
    """The (l1, l2) strengths the config's regularizer applies; 0 where it applies none."""
    use_l1, use_l2 = REGULARIZERS.get(cfg.regularizer)
    return (cfg.l1 if use_l1 else 0.0, cfg.l2 if use_l2 else 0.0)



def layer_seed(seed: int, layer: int) -> int:
    """The initializer seed of dense layer `layer` (0 = first hidden) in the replicate with this seed."""
    return seed * 1000 + layer
