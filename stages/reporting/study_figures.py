"""A study's figures, each drawn where the study's results or params call for it (never by the study's name), with
the line that says how to read it."""
from __future__ import annotations

from pathlib import Path

from stages.analysis import curves, trained
from stages.config import StudyConfig
from stages.reporting import figures
from stages.reporting.lookup import Summary, varies


HOW_TO_READ = {
    "val_loss": "Lines are means over seeds, bands ±1 standard deviation; lower is better.",
    "train_loss": "Training loss of the chosen learning rate per optimizer, mean over seeds (log scale).",
    "lr": "Each point is one learning rate's final validation loss (mean over seeds); missing points diverged. "
          "A flat bottom means a forgiving optimizer.",
    "grad_norm": "Gradient norm with respect to each hidden layer's pre-activations at initialization (log scale): "
                 "a line falling toward layer 1 means gradients vanish on their way back to the input.",
    "noise": "Variance of mini-batch gradients around the full probe-batch gradient, at initialization "
             "(log-log): the theory predicts a slope of -1.",
    "gap": "Train minus validation metric of the chosen setting, with the 95% interval over seeds.",
    "test_mae": "Test MAE (standardized target units) per loss, with the 95% interval over seeds; lower is better.",
    "capacity": "Generalization gap against the share of training data used, one line per network size.",
    "by_step": "Validation loss against optimizer steps (log-log): methods that take one step per epoch look slow "
               "per epoch but may be efficient per step.",
}


def embed(file: str, kind: str) -> list[str]:
    """The Markdown of one figure of reports/figures/ with its how-to-read line."""
    return [f"![{file}](figures/{file})", "", f"*How to read:* {HOW_TO_READ[kind]}", ""]


def figure_file(study: str, kind: str, condition: str = "") -> str:
    """The file a study's figure of `kind` (a HOW_TO_READ key) is drawn to, per condition where it has them; the
    concept table could link its findings' figures through it instead of writing their names out."""
    return f"{study}_{condition}_{kind}.png" if condition else f"{study}_{kind}.png"


def condition_figures(study: str, spec: StudyConfig, condition: str, variants: dict[str, dict],
                      folder: Path) -> list[tuple[str, str]]:
    """Draw one condition's figures; return (file name, how-to-read key) pairs."""
    path = lambda kind: folder / figure_file(study, kind, condition)  # noqa: E731
    drawn = ["val_loss"]
    figures.learning_curves(variants, "val_loss", "validation loss", path("val_loss"), log=True)
    if any(v["metrics"].get("select_on") == "train_loss_auc" for v in variants.values()):  # compared on training
        figures.learning_curves(variants, "train_loss", "training loss", path("train_loss"), log=True)
        drawn.append("train_loss")
    if any(len(v["metrics"]["points"]) > 1 and "learning_rate" in v["metrics"]["best_setting"]
           for v in variants.values()):
        figures.lr_curves(variants, path("lr"))
        drawn.append("lr")
    if any(len(v["metrics"].get("preact_grad_norm_init") or []) >= 3 for v in variants.values()):  # deep nets
        figures.layer_norms(variants, "preact_grad_norm_init", path("grad_norm"), "|dLoss/d pre-activation| at init")
        drawn.append("grad_norm")
    if len({v["metrics"]["steps_per_epoch"] for v in variants.values()}) > 1:  # an epoch is not the same work
        figures.progress_against(curves.step_curves(variants)[1], 2, path("by_step"), "training steps", list(variants))
        drawn.append("by_step")  # by wall-clock time: the `timing` stage (not in git)
    if varies(spec, "batch_size"):  # a batch-size sweep: the noise its gradients carry
        series = {"noise variance": sorted((v["metrics"]["noise_batch"], (trained.init_noise_ratio(v) or 0) ** 2)
                                           for v in variants.values())}
        figures.xy_lines(series, path("noise"), "batch size of the measured gradients", "relative noise variance",
                         logx=True, logy=True)
        drawn.append("noise")
    return [(figure_file(study, kind, condition), kind) for kind in drawn]


def across_conditions(study: str, summary: Summary, spec: StudyConfig, folder: Path) -> list[str]:
    """Figures that compare across conditions, where the study calls for them: the gap bars of a study that varies
    regularization, the test error bars of one measured in MAE, the gap against data size of one that varies it."""
    names, lines = list(spec.variants), []
    regularized = varies(spec, "regularizer", "dropout")
    if regularized:
        rows = [(key, e["generalization_gap"], None) for key, e in summary.items()]
        figures.bars(rows, folder / figure_file(study, "gap"), "train minus validation accuracy", names)
        lines += embed(figure_file(study, "gap"), "gap")
    if any(e.get("metric") == "mae" for e in summary.values()):
        rows = [(key, e["test_metric"], (e["test_high"] - e["test_low"]) / 2 if e["test_low"] is not None else None)
                for key, e in summary.items()]
        figures.bars(rows, folder / figure_file(study, "test_mae"), "test MAE (standardized)", names)
        lines += embed(figure_file(study, "test_mae"), "test_mae")
    clean = [c for c in spec.conditions if not spec.conditions[c].get("label_noise")]  # the data-size axis
    if len({spec.conditions[c].get("train_fraction") for c in clean}) > 1 and not regularized:
        series = {n: [(spec.conditions[c].get("train_fraction"), summary[f"{n}/{c}"]["generalization_gap"])
                      for c in clean] for n in names}  # (the gap bars, where drawn, have its file name)
        figures.xy_lines(series, folder / figure_file(study, "gap"), "share of the training split",
                         "generalization gap")
        lines += embed(figure_file(study, "gap"), "capacity")
    return lines
