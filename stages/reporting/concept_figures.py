"""One figure per line of the concept table: its declared endpoint over training for the variants the line compares
and, beside it, the mechanism the failure shows (dead or saturated units per epoch, gradients per layer, steps)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from matplotlib.ticker import MaxNLocator

from stages.analysis import replicates, trained
from stages.config import ReportConfig
from stages.reporting import figures

plt = figures.plt  # pyplot with the figures module's backend (Agg) and style


@dataclass(frozen=True)
class Request:
    """A figure the concept table links: its file, the study, the endpoint, and {legend: summary key} with the
    failure (or baseline) first."""

    file: str
    study: str
    endpoint: str
    keys: tuple[tuple[str, str], ...]
    title: str


def _top(row: dict, key: str) -> float | None:
    values = row.get(key) or []
    return values[-1] if values else None


def _layer_mean(row: dict, key: str) -> float | None:
    values = [v for v in row.get(key) or [] if v is not None]
    return sum(values) / len(values) if values else None


# endpoint -> (what is drawn per epoch, axis label, log scale); overfitting draws two quantities, see `draw`
ENDPOINT_SERIES: dict[str, tuple[Callable[[dict], float | None], str, bool]] = {
    "saturation": (lambda row: _top(row, "saturated_fraction"), "top hidden layer: share of units saturated", False),
    "divergence": (lambda row: row.get("train_loss"), "training loss (x: runs diverged)", True),
    "test_metric": (lambda row: row.get("val_metric"), "validation metric (the test metric's held-out twin)", False),
    "train_loss_auc": (lambda row: row.get("train_loss"), "training loss", True),
}


def epoch_means(histories: list[list[dict]], value: Callable[[dict], float | None]) -> list[tuple[int, float, float]]:
    """(epoch, mean, std) over runs of a value computed from each epoch's row; epochs with no value left out."""
    curve = []
    for epoch in range(max((len(h) for h in histories), default=0)):
        mean, std, n = replicates.mean_std([value(h[epoch]) if epoch < len(h) else None for h in histories])
        if n:
            curve.append((epoch, mean, std))
    return curve


def _plot(ax, variants: dict[str, dict], value: Callable[[dict], float | None], style: str = "-",
          suffix: str = "") -> None:
    figures.mean_lines(ax, variants, {name: epoch_means(trained.histories(v), value)
                                      for name, v in variants.items()}, style, suffix)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def mechanism(endpoint: str, failure: dict, cfg: ReportConfig) -> str | None:
    """What the right panel draws, from the signs the failure (or baseline) shows: steps for a training-speed row,
    dead units, saturated units, or gradients per layer at initialization; None when it shows none."""
    if endpoint == "train_loss_auc":
        return "steps"
    if failure.get("born_dead_runs") or (failure.get("dead_fraction") or 0) > 0.5:
        return "dead"
    if endpoint != "saturation" and (failure.get("top_saturation_peak") or 0) >= cfg.saturated_fraction:
        return "saturated"
    ratio = failure.get("grad_norm_first_over_last_init")
    if ratio is not None and not cfg.vanishing_ratio <= ratio <= cfg.exploding_ratio:
        return "gradients"
    return None


def draw(request: Request, variants: dict[str, dict], failure: dict, cfg: ReportConfig, folder: Path) -> None:
    """The figure of one concept line: `variants` {legend: trained variant} in the request's order."""
    shows = mechanism(request.endpoint, failure, cfg)
    fig, axes = plt.subplots(1, 2 if shows else 1, figsize=(11 if shows else 7, 3.6), squeeze=False)
    left = axes[0][0]
    if request.endpoint == "overfitting":
        _plot(left, variants, lambda row: row.get("train_metric"), "-", " train")
        _plot(left, variants, lambda row: row.get("val_metric"), "--", " validation")
        left.set_ylabel("metric: train (solid), validation (dashed)")
    else:
        value, label, log = ENDPOINT_SERIES[request.endpoint]
        _plot(left, variants, value)
        left.set_ylabel(label)
        if log:
            left.set_yscale("log")
    if shows:
        _mechanism_panel(axes[0][1], shows, variants)
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3), frameon=False)
    fig.suptitle(request.title, fontsize=11)
    figures.save(fig, folder / request.file, rect=(0, 0.1, 1, 1))  # the legend below the panels


def _mechanism_panel(ax, shows: str, variants: dict[str, dict]) -> None:
    if shows == "steps":
        palette = figures.colors(list(variants))
        for name, variant in variants.items():
            per_epoch = variant["metrics"]["steps_per_epoch"]
            curve = epoch_means(trained.histories(variant), lambda row: row.get("train_loss"))
            if curve:
                ax.plot([e * per_epoch for e, _, _ in curve], [m for _, m, _ in curve], color=palette[name], lw=1.6)
        ax.set(xscale="log", yscale="log", xlabel="optimizer steps", ylabel="training loss")
    elif shows in ("dead", "saturated"):
        key = "dead_fraction" if shows == "dead" else "saturated_fraction"
        _plot(ax, variants, (lambda row: _layer_mean(row, key)) if shows == "dead" else (lambda row: _top(row, key)))
        ax.set_ylabel("share of dead units (mean over layers)" if shows == "dead"
                      else "top hidden layer: share of units saturated")
    else:
        figures.layer_lines(ax, variants, "preact_grad_norm_init")
        ax.set_ylabel("|dLoss/d pre-activation| at init")
