"""Losses by Keras name: the Keras object each builds, the tasks it fits, logits or probabilities."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stages.common.registry import Registry

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class LossSpec:
    """A loss: the Keras object, the tasks it fits, and whether it reads logits or probabilities."""

    build: Callable[[Any], keras.losses.Loss]  # from a TrainConfig
    tasks: tuple[str, ...]
    from_logits: bool  # cross-entropies read logits (stable); the others compare outputs directly


def _keras_loss(class_name: str, logits: bool = False, **fields: str):
    def build(cfg: Any) -> keras.losses.Loss:
        import keras

        options = {key: getattr(cfg, value) for key, value in fields.items()}
        if logits:
            options["from_logits"] = True
        return keras.losses.get({"class_name": class_name, "config": options})

    return build


CLASSIFICATION, REGRESSION = ("multiclass", "binary"), ("regression",)
LOSSES: Registry[LossSpec] = Registry("loss", {
    "mse": LossSpec(_keras_loss("MeanSquaredError"), CLASSIFICATION + REGRESSION, False),
    "mae": LossSpec(_keras_loss("MeanAbsoluteError"), REGRESSION, False),
    "huber": LossSpec(_keras_loss("Huber", delta="huber_delta"), REGRESSION, False),
    "binary_crossentropy": LossSpec(_keras_loss("BinaryCrossentropy", logits=True), ("binary",), True),
    "categorical_crossentropy": LossSpec(_keras_loss("CategoricalCrossentropy", logits=True),
                                         CLASSIFICATION, True),
})

