"""Optimizers by name: the Keras optimizer each builds and the batch size each implies."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stages.common.registry import Registry

if TYPE_CHECKING:
    import keras

Settings = Any  # a stages.config.Settings: the catalog sits below config and reads only its fields


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer: its Keras class with the params it reads, and its batch-size rule."""

    class_name: str
    fields: dict[str, str]  # Keras argument -> Settings field
    batch: str  # "full" (one step per epoch), "one" (per example) or "config" (batch_size)

    def build(self, cfg: Settings) -> keras.optimizers.Optimizer:
        """A fresh Keras optimizer with the config's learning rate and clipping."""
        import keras

        options = {key: getattr(cfg, value) for key, value in self.fields.items()}
        options.update(learning_rate=cfg.learning_rate, global_clipnorm=cfg.global_clipnorm)
        return keras.optimizers.get({"class_name": self.class_name, "config": options})

    def batch_size(self, cfg: Settings, n_train: int) -> int:
        """Examples per step for a training set of `n_train` rows."""
        return {"full": n_train, "one": 1, "config": cfg.batch_size}[self.batch]


OPTIMIZERS: Registry[OptimizerSpec] = Registry("optimizer", {
    "batch_gd": OptimizerSpec("SGD", {}, "full"),
    "sgd": OptimizerSpec("SGD", {}, "one"),
    "minibatch_sgd": OptimizerSpec("SGD", {}, "config"),
    "momentum": OptimizerSpec("SGD", {"momentum": "momentum", "nesterov": "nesterov"}, "config"),
    "adagrad": OptimizerSpec("Adagrad", {"epsilon": "epsilon"}, "config"),
    "rmsprop": OptimizerSpec("RMSprop", {"rho": "rho", "epsilon": "epsilon"}, "config"),
    "adam": OptimizerSpec("Adam", {"beta_1": "beta_1", "beta_2": "beta_2", "epsilon": "epsilon"}, "config"),
})

