"""`build_mlp`: a Keras MLP from Keras names (the registries in stages.catalog)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from stages.catalog.layers import ACTIVATIONS, INITIALIZERS, layer_seed, penalty_strengths
from stages.catalog.tasks import Head
from stages.config import TrainConfig

if TYPE_CHECKING:  # imported on first use: TensorFlow's start-up is silenced by the engine's import
    import keras


def build_mlp(cfg: TrainConfig, n_inputs: int, head: Head, seed: int = 0) -> keras.Sequential:
    """Dense -> activation (-> dropout) per hidden width, then the task's output layer and activation."""
    import keras

    l1, l2 = penalty_strengths(cfg)
    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2) if cfg.regularizer != "none" else None
    initializer = INITIALIZERS.get(cfg.initializer)
    layers: list[keras.layers.Layer] = [keras.Input((n_inputs,))]
    for index, width in enumerate(cfg.hidden):
        layers.append(keras.layers.Dense(width, kernel_initializer=initializer(cfg, layer_seed(seed, index)),
                                         kernel_regularizer=regularizer, name=f"hidden_{index}"))
        layers.append(ACTIVATIONS.get(cfg.activation).layer(cfg))
        if cfg.dropout > 0 or "dropout" in cfg.sweep:
            layers.append(keras.layers.Dropout(cfg.dropout))
    layers.append(keras.layers.Dense(head.units, kernel_regularizer=regularizer, name="output",
                                     kernel_initializer=initializer(cfg, layer_seed(seed, len(cfg.hidden)))))
    layers.append(keras.layers.Activation(head.activation, name="probabilities"
                                          if head.activation != "linear" else "prediction"))
    return keras.Sequential(layers, name="mlp")
