"""The foundations study: perceptron against its bound, XOR, neurons vs MLP, probes and calibration."""
from __future__ import annotations

import numpy as np
import pytest

from stages import config
from stages.reference import gd_fit, linear_probes, perceptron
from stages.ingest import synthetic
from stages.common.errors import DataError
from stages.ingest.arrays import load_arrays
from tests.conftest import REPO

PARAMS = config.load(REPO / "params.yaml")


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_perceptron_converges_within_the_novikoff_bound(seed):
    x, y = synthetic.separable(120, seed, 0.3)
    signs = 2 * y - 1
    bound = perceptron.novikoff_bound(x, signs)
    assert bound["separable"]
    run = perceptron.train(x, signs, max_epochs=1000, seed=seed)
    assert run.converged and run.updates <= bound["bound"]
    assert np.all(perceptron.predict(run.weights, x) == signs)  # converged means no mistake left


def test_perceptron_cycles_on_xor_and_stops_at_its_limit():
    x = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    signs = np.array([-1, -1, 1, 1])
    run = perceptron.train(x, signs, max_epochs=50, seed=0)
    assert not run.converged and run.cycled and all(m > 0 for m in run.mistakes)
    noisy_x, noisy_y = synthetic.xor(200, 0, 0.3)
    noisy = perceptron.train(noisy_x, 2 * noisy_y - 1, max_epochs=30, seed=0)
    assert not noisy.converged
    assert noisy.epochs == 30 or noisy.cycled


def test_one_hidden_layer_solves_xor_where_one_neuron_cannot():
    x, y = synthetic.xor(200, 0, 0.3)
    neuron = gd_fit.fit(gd_fit.init_layers([2, 1], 0), x, y, activation="sigmoid", learning_rate=1.0, epochs=500)
    mlp = gd_fit.fit(gd_fit.init_layers([2, 8, 1], 0), x, y, activation="tanh", learning_rate=0.5, epochs=500)
    assert gd_fit.accuracy(neuron.layers, x, y, "sigmoid") < 0.75
    assert gd_fit.accuracy(mlp.layers, x, y, "tanh") > 0.95
    assert mlp.losses[-1] < mlp.losses[0]


def test_a_hidden_layer_probe_separates_what_the_raw_input_cannot():
    from stages.basics import models as foundations
    from tests.configs import report_config

    x, y = synthetic.xor(200, 0, 0.3)
    x_test, y_test = synthetic.xor(200, 1, 0.3)
    fits = [gd_fit.fit(gd_fit.init_layers([2, 8, 1], seed), x, y, activation="tanh", learning_rate=0.5, epochs=500)
            for seed in range(3)]
    probe = foundations.hidden_probe(fits, {"x": x, "y": y, "x_test": x_test, "y_test": y_test}, "tanh")
    assert probe["input"] < 0.7 and probe["hidden_1"]["final"] > 0.95 and probe["n_eval"] == 200
    gain = foundations.probe_gain(probe, report_config())
    assert gain["layer"] == "hidden_1" and gain["paired_seeds"] == 3 and gain["diff_low"] > 0.2


def test_both_probe_gains_share_one_holm_family():
    from stages.basics import models as foundations
    from tests.configs import report_config

    def probe(raw: float, hidden: list[float]) -> dict:
        return {"input": raw, "n_eval": 10_000, "hidden_1": {"final": float(np.mean(hidden)), "final_per_seed": hidden}}

    summary = {"probe": probe(0.97, [0.971, 0.972, 0.969]), "mlp": {"moons": {"probe": probe(0.86, [0.97, 0.98, 0.975])}}}
    gains = foundations.probe_gains(summary, report_config())
    alone = foundations.probe_gain(summary["mlp"]["moons"]["probe"], report_config())
    # four p-values (two differences, two equivalences): the smallest is multiplied by four
    assert gains["probe_gain_moons"]["p_adjusted"] == pytest.approx(4 * alone["p_vs_baseline"], rel=1e-3)
    assert gains["probe_gain_moons"]["verdict"] == "better" and gains["probe_gain"]["verdict"] != "better"


@pytest.mark.parametrize("name, x, y, expected", [
    ("xor", np.array([[0.0, np.nan], [1.0, 1.0]]), np.array([0, 1]), "NaN or infinite"),
    ("xor", np.zeros((4, 2)), np.array([0, 0, 0, 0]), "labels must be 0 and 1"),
    ("xor", np.zeros((4, 3)), np.array([0, 1, 0, 1]), "expected (n, 2) features"),
    ("separable", *synthetic.xor(100, 0, 0.3), "not linearly separable"),
])
def test_synthetic_sets_are_validated(name, x, y, expected):
    with pytest.raises(DataError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        synthetic.check(name, x, y, "data/synthetic/x.npz")


def test_reliability_measures_calibration():
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.5, 1.0, 20000)
    labels = np.zeros(20000, dtype=int)
    correct = rng.uniform(size=20000) < confidence  # right exactly as often as it claims
    labels[~correct] = 1
    calibrated = np.column_stack([confidence, 1 - confidence])
    assert linear_probes.reliability(calibrated, labels, 10)["ece"] < 0.02
    overconfident = np.column_stack([np.full(20000, 0.99), np.full(20000, 0.01)])
    result = linear_probes.reliability(overconfident, labels, 10)
    assert result["ece"] == pytest.approx(0.99 - result["accuracy"], abs=1e-9)


def test_hidden_activations_match_keras(processed):
    import keras

    from stages.nn import engine

    cfg = config.representation_config(PARAMS).model_copy(update={"epochs": 1, "seeds": [0]})
    trainer = engine.new_engine(cfg, load_arrays(processed / "fashion_mnist", cfg))
    trainer.reset({}, 0)
    x = trainer.arrays.x["val"][:50]
    weights = [w.numpy() for w in trainer.model.weights]
    ours = linear_probes.hidden_activations(weights, x, cfg.activation)
    first_hidden = keras.Model(trainer.model.inputs, trainer.model.layers[1].output)
    np.testing.assert_allclose(ours[0], first_hidden(x).numpy(), rtol=1e-4, atol=1e-5)


def test_trained_last_layer_probe_beats_the_raw_input_in_the_default_run(processed):
    """The default net, schedule and seeds, probed at the start, middle and end only (with two seeds, or after 4 of
    its 20 epochs, the last layer's probe is still below the raw input's)."""
    from stages.basics.probing import probe_layers

    net = config.representation_config(PARAMS)
    ends = PARAMS.foundations.model_copy(update={"probe_epochs": [0, net.epochs // 2, net.epochs]})
    summary, curves, projections = probe_layers(ends, net, processed / "fashion_mnist")
    last = f"hidden_{len(net.hidden)}"
    assert summary["probe"][last]["final"] > summary["probe"]["input"]
    assert summary["probe"][last]["final"] > summary["probe"][last]["init"]
    assert 0 <= summary["calibration"]["ece"] < 0.2
    assert [title for title, _, _ in projections] == [f"epoch {e}" for e in (0, net.epochs // 2, net.epochs)]
