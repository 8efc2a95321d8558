"""Losses by Keras name, which tasks each fits, and the output layer ("head") a task and loss imply."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stages.registry import Registry

if TYPE_CHECKING:
    import keras

    from stages.config import TrainConfig


@dataclass(frozen=True)
class LossSpec:
    """A loss: the Keras object, the tasks it fits, and whether it reads logits or probabilities."""

    build: Callable[[TrainConfig], keras.losses.Loss]
    tasks: tuple[str, ...]
    from_logits: bool  # cross-entropies read logits (stable); the others compare outputs directly


@dataclass(frozen=True)
class Head:
    """The output layer: units, activation, and how targets are encoded for the loss."""

    units: int
    activation: str  # "softmax" | "sigmoid" | "linear"
    one_hot: bool  # targets as one-hot rows (softmax) or as one column (sigmoid, linear)
    from_logits: bool


def _keras_loss(class_name: str, logits: bool = False, **fields: str):
    def build(cfg: TrainConfig) -> keras.losses.Loss:
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


def head_for(task: str, loss: str, n_classes: int) -> Head:
    """Softmax for multiclass and for binary with categorical cross-entropy; sigmoid for other binary losses."""
    from_logits = LOSSES.get(loss).from_logits
    if task == "regression":
        return Head(1, "linear", False, from_logits)
    if task == "multiclass" or loss == "categorical_crossentropy":
        return Head(n_classes, "softmax", True, from_logits)
    return Head(1, "sigmoid", False, from_logits)
