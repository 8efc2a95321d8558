"""Each concept line links a figure of its endpoint over training, beside the mechanism its failure shows."""
from __future__ import annotations

from stages.config import ConceptRow
from stages.reporting import concept_figures, concepts
from tests.configs import report_config


def test_the_mechanism_panel_follows_the_failures_signs():
    cfg = report_config()  # saturated_fraction, vanishing_ratio and exploding_ratio from params.yaml
    assert concept_figures.mechanism("train_loss_auc", {}, cfg) == "steps"
    assert concept_figures.mechanism("test_metric", {"born_dead_runs": 3}, cfg) == "dead"
    assert concept_figures.mechanism("test_metric", {"top_saturation_peak": 0.99}, cfg) == "saturated"
    # on a saturation endpoint the left panel already shows it: the right one shows the gradients instead
    assert concept_figures.mechanism("saturation", {"top_saturation_peak": 0.99,
                                                    "grad_norm_first_over_last_init": 1e-4}, cfg) == "gradients"
    assert concept_figures.mechanism("test_metric", {"grad_norm_first_over_last_init": 1.0}, cfg) is None


def _variant(top_saturation: list[float], val_metric: list[float], layers: int = 4) -> dict:
    history = [{"epoch": e, "saturated_fraction": [0.1] * (layers - 1) + [s], "val_metric": v, "train_loss": 1 / (e + 1),
                "dead_fraction": [0.0] * layers} for e, (s, v) in enumerate(zip(top_saturation, val_metric))]
    runs = [{"seed": seed, "setting": {}, "final": {"diverged": False}, "history": history} for seed in (0, 1)]
    return {"metrics": {"best_setting": {}, "preact_grad_norm_init": [1e-4, 1e-3, 1e-2, 1e-1], "steps_per_epoch": 10},
            "runs": runs}


def test_a_concept_figure_is_drawn_for_the_lines_it_compares(tmp_path):
    request = concept_figures.Request("concept_05_deep.png", "activations", "saturation",
                                      (("failure", "sigmoid/deep"), ("cure", "tanh/deep")), "Sigmoid saturation")
    variants = {"failure": _variant([0.9, 0.99, 0.99], [0.2, 0.3, 0.4]), "cure": _variant([0.3, 0.2, 0.1], [0.8] * 3)}
    concept_figures.draw(request, variants, {"grad_norm_first_over_last_init": 1e-4}, report_config(), tmp_path)
    assert (tmp_path / "concept_05_deep.png").read_bytes().startswith(b"\x89PNG")


def test_each_compared_line_gets_its_own_figure_file_and_findings_link_theirs():
    row = lambda shows, endpoint="test_metric", study="activations": ConceptRow(  # noqa: E731
        concept="c", paper="p", study=study, shows=shows, endpoint=endpoint, expect=None)
    made = [(row("finding:noise_slope", "finding", "gradient_noise"), concepts.Line(("-",) * 5)),
            (row("tanh/deep", "saturation"), concepts.Line(("-",) * 5, keys=(("failure", "sigmoid/deep"),
                                                                              ("cure", "tanh/deep")))),
            (row("finding:backprop", "finding"), concepts.Line(("-",) * 5))]
    files, requests = concepts.figure_requests(made)
    assert files == ["gradient_noise_noise.png", "concept_02_deep.png", ""]
    assert [(r.file, r.endpoint, r.keys[0][1]) for r in requests] == [("concept_02_deep.png", "saturation",
                                                                       "sigmoid/deep")]
