"""Tasks by name: the metric each reports, which way it improves, and the output layer ("head") a loss implies."""
from __future__ import annotations

from dataclasses import dataclass

from stages.common.registry import Registry


@dataclass(frozen=True)
class TaskSpec:
    """A learning task: the metric the report compares on and whether higher is better."""

    metric: str  # "accuracy" (share of correct labels) or "mae" (mean absolute error, standardized units)
    higher_is_better: bool
    classes: bool  # labels are class indices (else real-valued targets)

    def better(self, a: float, b: float) -> bool:
        """True when metric value `a` is strictly better than `b`."""
        return a > b if self.higher_is_better else a < b

    def score(self, value: float) -> float:
        """The value on a scale where larger is always better (for max())."""
        return value if self.higher_is_better else -value


TASKS: Registry[TaskSpec] = Registry("task", {
    "multiclass": TaskSpec("accuracy", True, True),
    "binary": TaskSpec("accuracy", True, True),
    "regression": TaskSpec("mae", False, False),
})


def by_metric(metric: str) -> TaskSpec:
    """The task whose metric is called `metric` (summaries record the metric's name, not the task)."""
    return next(spec for name in TASKS.names if (spec := TASKS.get(name)).metric == metric)


@dataclass(frozen=True)
class Head:
    """The output layer: units, activation, and how targets are encoded for the loss."""

    units: int
    activation: str  # "softmax" | "sigmoid" | "linear"
    one_hot: bool  # targets as one-hot rows (softmax) or as one column (sigmoid, linear)
    from_logits: bool


def head_for(task: str, loss: str, n_classes: int) -> Head:
    """Softmax for multiclass and for binary with categorical cross-entropy; sigmoid for other binary losses."""
    from stages.catalog.losses import LOSSES

    from_logits = LOSSES.get(loss).from_logits
    if not TASKS.get(task).classes:
        return Head(1, "linear", False, from_logits)
    if task == "multiclass" or loss == "categorical_crossentropy":
        return Head(n_classes, "softmax", True, from_logits)
    return Head(1, "sigmoid", False, from_logits)
