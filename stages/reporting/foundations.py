"""Verdicts of the opening study: the perceptron against its bound, XOR, one neuron and an MLP, probes and
calibration."""
from __future__ import annotations

from stages.config import ReportConfig
from stages.reporting.formatting import fmt
from stages.reporting.wording import outcome, said


def foundations(summary: dict, cfg: ReportConfig) -> list[str]:
    """The opening study's verdicts: the perceptron against its bound, XOR, and the probes."""
    lines = []
    separable, xor = summary["perceptron"]["separable"], summary["perceptron"]["xor"]
    runs = separable["converged_runs"]
    if separable["bound"] is not None:
        within = separable["updates_max"] <= separable["bound"]
        lines.append(f"On the separable set the perceptron converged in {runs} of {separable['runs']} runs after at most "
                     f"{separable['updates_max']} updates; Novikoff's bound (R/γ)² is {fmt(separable['bound'])} "
                     f"(R = {fmt(separable['radius'])}, γ = {fmt(separable['margin'])})"
                     + (", and the count stays within it, as the theorem guarantees." if within else
                        ": the count exceeds it, which the theorem forbids; the margin estimate is wrong."))
    lines.append(f"On XOR no line separates the classes (best margin {fmt(xor['margin'])}): the perceptron "
                 f"converged in {xor['converged_runs']} runs and was still making mistakes after "
                 f"{xor['epochs_max']} epochs ({xor['updates_max']} updates)"
                 + (f"; {xor['cycled_runs']} runs returned to an earlier weight vector, a cycle." if xor["cycled_runs"]
                    else "; its weights wander in a bounded region without settling (the perceptron cycling "
                         "theorem), though on real-valued data they never repeat exactly."))
    neuron, mlp = summary["neuron"], summary["mlp"]
    lines.append(f"A single sigmoid neuron trained by gradient descent: XOR test accuracy "
                 f"{fmt(neuron['xor']['test_accuracy'])}, moons {fmt(neuron['moons']['test_accuracy'])}; "
                 f"its boundary is still a line. One hidden layer: XOR {fmt(mlp['xor']['test_accuracy'])}, "
                 f"moons {fmt(mlp['moons']['test_accuracy'])}.")
    probe, gain = summary["probe"], summary["probe_gain"]
    last = gain["layer"]
    finding = {"better": "Training made the last hidden layer more linearly separable than the raw input",
               "worse": "The trained last hidden layer is less linearly separable than the raw input",
               "equivalent": "Training left the last hidden layer as linearly separable as the raw input",
               }.get(outcome(gain), "Not resolved whether training made the last hidden layer more linearly "
                                    "separable than the raw input")
    lines.append(f"Linear probes on the 10-class set (validation accuracy): raw input {fmt(probe['input'])}; {last} at "
                 f"initialization {fmt(probe[last]['init'])}, after training {fmt(probe[last]['final'])}. {finding}: "
                 + said(gain, cfg, f"{last} vs input") + ".")
    moons, moons_gain = mlp["moons"]["probe"], summary["probe_gain_moons"]
    lines.append(f"On the two moons, where no line separates the raw input, a linear probe (test accuracy) reaches "
                 f"{fmt(moons['input'])} on the input and {fmt(moons['hidden_1']['final'])} on the trained MLP's hidden "
                 "layer: " + said(moons_gain, cfg, "hidden layer vs input") + ". The MLP's own output unit is "
                 "such a linear read-out, so the probe shows what its hidden layer made separable, not a second "
                 "learner. Both probe tests are one Holm family.")
    calibration = summary["calibration"]
    lines.append(f"Expected calibration error of the softmax outputs on the test split: {fmt(calibration['ece'])}; "
                 f"mean confidence {fmt(calibration['mean_confidence'])} against accuracy "
                 f"{fmt(calibration['accuracy'])} ("
                 + ("calibrated on average" if abs(calibration["mean_confidence"] - calibration["accuracy"]) < 0.01
                    else "overconfident on average" if calibration["mean_confidence"] > calibration["accuracy"]
                    else "underconfident on average") + ").")
    return lines
