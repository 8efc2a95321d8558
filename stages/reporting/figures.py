"""Report figures with matplotlib: one color per variant across every figure, seed bands, log scales."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from stages.analysis import replicates, trained  # noqa: E402
from stages.common import atomic

plt.rcParams.update({"font.size": 10, "axes.titlesize": 11, "legend.fontsize": 9, "figure.dpi": 110,
                     "svg.hashsalt": "nnf", "axes.spines.top": False, "axes.spines.right": False})
PALETTE = plt.get_cmap("tab10").colors


def colors(names: list[str]) -> dict[str, tuple]:
    """A fixed color per variant, by its position among the study's variants."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def save(fig, path: Path, rect: tuple[float, float, float, float] = (0, 0, 1, 1)) -> None:
    """Write a PNG atomically (no timestamp in the file, so reruns are byte-identical), laid out inside `rect`."""
    fig.tight_layout(rect=rect)
    with atomic.staged_file(path, "wb") as handle:
        fig.savefig(handle, format="png", metadata={"Software": None})
    plt.close(fig)


def diverged_label(name: str, runs: list[dict]) -> str:
    """A variant's legend entry, saying how many of its runs diverged (their curves end there)."""
    diverged = sum(bool(run["final"].get("diverged")) for run in runs)
    return f"{name} (diverged: {diverged} of {len(runs)} runs)" if diverged else name


def learning_curves(variants: dict[str, dict], key: str, label: str, path: Path, log: bool = False) -> None:
    """Mean over seeds with a ±1 std band, per variant, against epoch; a variant whose runs diverged says so in the
    legend and ends in a cross where its last run stopped (a curve of one epoch is that cross alone)."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    mean_lines(ax, variants, {name: replicates.mean_curve(trained.histories(v), key) for name, v in variants.items()})
    ax.set_ylabel(label)
    if log:
        ax.set_yscale("log")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    save(fig, path)


def mean_lines(ax, variants: dict[str, dict], curves: dict[str, list[tuple[int, float, float]]], style: str = "-",
               suffix: str = "") -> None:
    """Per variant its curve of (epoch, mean, std) over seeds as a line with a ±1 std band, in the variant's color; a
    variant whose runs diverged says so in the legend (`suffix` added) and ends in a cross."""
    palette = colors(list(variants))
    for name, variant in variants.items():
        if not curves[name]:
            continue
        epochs, mean, std = zip(*curves[name])
        legend = diverged_label(name, trained.chosen_runs(variant))
        ax.plot(epochs, mean, style, color=palette[name], label=legend + suffix, lw=1.6,
                marker="x" if legend != name else None, markevery=[len(epochs) - 1], markersize=8)
        ax.fill_between(epochs, [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)],
                        color=palette[name], alpha=0.18, lw=0)
    ax.set_xlabel("epoch")


def layer_lines(ax, variants: dict[str, dict], key: str) -> None:
    """Per variant a per-layer quantity of its metrics (log scale) against the hidden layer's index."""
    palette = colors(list(variants))
    for name, variant in variants.items():
        pairs = [(i + 1, v) for i, v in enumerate(variant["metrics"].get(key) or []) if v]
        if pairs:
            ax.plot(*zip(*pairs), marker="o", color=palette[name], label=name, lw=1.4)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # layers are whole numbers: no tick at layer 1.5
    ax.set_xlabel("hidden layer (1 = nearest the input)")


def lr_curves(variants: dict[str, dict], path: Path) -> None:
    """Final validation loss against learning rate (log axis), per variant (the mean over the runs that finished); a
    rate at which a run diverged is also marked by a cross at the top of the axes."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    palette = colors(list(variants))
    for name, variant in variants.items():
        rated = [p for p in variant["metrics"]["points"] if "learning_rate" in p["setting"]]
        points = sorted((p["setting"]["learning_rate"], p["val_loss"]) for p in rated if p["val_loss"] is not None)
        if points:
            ax.plot(*zip(*points), marker="o", color=palette[name], label=name, lw=1.4)
        diverged = [p["setting"]["learning_rate"] for p in rated if p["diverged_runs"]]
        if diverged:
            ax.plot(diverged, [1.0] * len(diverged), "x", color=palette[name], markersize=9, clip_on=False,
                    transform=ax.get_xaxis_transform(), label=f"{name}: a run diverged")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("final validation loss")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    save(fig, path)


def layer_norms(variants: dict[str, dict], key: str, path: Path, label: str) -> None:
    """A per-layer quantity (log scale) against layer index, per variant."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    layer_lines(ax, variants, key)
    ax.set_ylabel(label)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    save(fig, path)


def bars(rows: list[tuple[str, float | None, float | None]], path: Path, label: str, names: list[str]) -> None:
    """Horizontal bars (value with a 95% interval where given), one per row, colored by variant."""
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(rows) + 1.2))
    palette = colors(names)
    shown = [(n, v, e) for n, v, e in rows if v is not None]
    ax.barh([n for n, _, _ in shown], [v for _, v, _ in shown], xerr=[e or 0 for _, _, e in shown],
            color=[palette.get(n.split("/")[0], PALETTE[0]) for n, _, _ in shown], capsize=3)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel(label)
    save(fig, path)


def xy_lines(series: dict[str, list[tuple[float, float]]], path: Path, xlabel: str, ylabel: str,
             logx: bool = False, logy: bool = False) -> None:
    """One line per named series of (x, y) points; names are variants (colored consistently)."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    palette = colors(list(series))
    for name, points in series.items():
        points = [(x, y) for x, y in points if x is not None and y is not None]
        if points:
            ax.plot(*zip(*points), marker="o", color=palette[name], label=name, lw=1.4)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    save(fig, path)


def boundaries(panels: list[tuple[str, callable, object]], path: Path, columns: int = 3) -> None:
    """Decision regions: each panel is (title, P(class 1) on an (n, 2) grid, (x, y) points)."""
    import numpy as np

    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.1 * columns, 2.9 * rows), squeeze=False)
    for ax, (title, probability, (x, y)) in zip(axes.flat, panels):
        pad = 0.5
        gx, gy = np.meshgrid(np.linspace(x[:, 0].min() - pad, x[:, 0].max() + pad, 120),
                             np.linspace(x[:, 1].min() - pad, x[:, 1].max() + pad, 120))
        grid = probability(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
        ax.contourf(gx, gy, grid, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.55)
        ax.contour(gx, gy, grid, levels=[0.5], colors="black", linewidths=1)
        ax.scatter(x[:, 0], x[:, 1], c=[PALETTE[int(v)] for v in y], s=8, edgecolors="none")
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    save(fig, path)


def projections(panels: list[tuple[str, object, object]], path: Path) -> None:
    """2-D projections of hidden activations, one panel per (title, points (n, 2), labels (n,))."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.2), squeeze=False)
    for ax, (title, points, labels) in zip(axes.flat, panels):
        for label in sorted(set(labels.tolist())):
            chosen = labels == label
            ax.scatter(points[chosen, 0], points[chosen, 1], s=5, color=PALETTE[label % len(PALETTE)], label=str(label))
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    axes.flat[-1].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, markerscale=3, title="class")
    save(fig, path)


def reliability_diagram(bins: list[dict], path: Path) -> None:
    """Accuracy against confidence per bin; the diagonal is perfect calibration; bar width is the bin."""
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], color="gray", lw=1, ls="--", label="perfectly calibrated")
    ax.bar([b["lower"] for b in bins], [b["accuracy"] for b in bins], width=[b["upper"] - b["lower"] for b in bins],
           align="edge", color=PALETTE[0], alpha=0.7, edgecolor="black", lw=0.5, label="accuracy in bin")
    ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o", color=PALETTE[1],
            label="mean confidence in bin")
    ax.set_xlabel("confidence (largest softmax probability)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    save(fig, path)


def progress_against(rows: list[list], x_column: int, path: Path, xlabel: str, names: list[str]) -> None:
    """Validation loss (last column) against steps or seconds (x_column) from a long table
    [variant, epoch, x, ..., val_loss], one line per variant, log x."""
    series = {name: [(row[x_column], row[-1]) for row in rows if row[0] == name and row[x_column]] for name in names}
    xy_lines(series, path, xlabel, "validation loss", logx=True, logy=True)
