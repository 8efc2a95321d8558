"""The opening study's figures: decision regions, a boundary forming, probe accuracy, projections, reliability."""
from __future__ import annotations

from pathlib import Path

from stages.config import FoundationsConfig
from stages.reference import gd_fit, perceptron
from stages.reporting import figures


def draw(spec: FoundationsConfig, sets: dict, fitted: dict, curves: dict, projections: list,
         folder: Path) -> None:
    """Decision boundaries, the MLP's boundary forming, probe accuracy, projections, reliability."""
    panels = []
    for name in ("xor", "moons"):
        data = sets[name]
        run = fitted[("perceptron", name)]
        panels.append((f"perceptron, {name}", lambda g, w=run.weights: (perceptron.augment(g) @ w > 0) * 1.0,
                       (data["x"], data["y"])))
        for model in ("neuron", "mlp"):
            fit, activation = fitted[(model, name)]
            panels.append((f"{model}, {name}", lambda g, f=fit, a=activation: gd_fit.probability(f.layers, g, a),
                           (data["x"], data["y"])))
    figures.boundaries(panels, folder / "boundaries.png")
    fit, activation = fitted[("mlp", "moons")]
    forming = [(f"MLP after {epoch} steps", lambda g, s=fit.snapshots[epoch]: gd_fit.probability(s, g, activation),
                (sets["moons"]["x"], sets["moons"]["y"])) for epoch in spec.boundary_epochs]
    figures.boundaries(forming, folder / "boundary_forming.png", columns=len(forming))
    table = curves["table"]
    series = {"raw input": [(row[0], row[1]) for row in table]}
    series.update({f"hidden {i + 1}": [(row[0], row[2 + i]) for row in table] for i in range(curves["layers"])})
    figures.xy_lines(series, folder / "probe_accuracy.png", "epoch", "linear-probe validation accuracy")
    figures.projections(projections, folder / "projections.png")
    figures.reliability_diagram(curves["bins"], folder / "reliability.png")
