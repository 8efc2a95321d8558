"""The robustness check's result in words (reports/robustness.json, written by `python -m stages.tools.robustness`):
how far a float perturbation moved the runs, and which concept verdicts it changed."""
from __future__ import annotations

import json
from pathlib import Path


def summary(result: dict) -> str:
    """The README's paragraph on one robustness check."""
    moved, m = result["moved_by_perturbation"], result["machine"]
    text = (f"Measured by `python -m stages.tools.robustness` ({m['processor']}; `import keras` "
            f"{m['import_keras_seconds']} s, NumPy matmul {m['matmul_gflops']:.0f} GFLOP/s; {result['seconds']} s): "
            f"with the last bit of every initial weight flipped, {moved['train_stages_changed']} of "
            f"{moved['train_stages']} train stages wrote other runs and {moved['variants_moved']} of "
            f"{moved['variants']} variants' test metrics moved (median {moved['median_abs_move']:.3g}, at most "
            + _largest(moved) + ")")
    other = result.get("moved_by_another_machine")
    if other and not other["train_stages"]:
        text += (f"; commit {other['against'][:7]}, made on another machine, trained every stage with other params, "
                 "so it gives no machine comparison")
    elif other:
        text += (f"; this machine against commit {other['against'][:7]}'s: {other['train_stages_changed']} of "
                 f"{other['train_stages']} train stages, {other['variants_moved']} of {other['variants']} variants "
                 f"(median {other['median_abs_move']:.3g}, at most {_largest(other)})")
    changes = result["changed"]
    text += (f". Verdicts changed: {len(changes)} of {result['compared_lines']} concept lines"
             + (": " + "; ".join(f"{c['concept']} (`{c['compares']}`): {c['verdict']} -> {c['other']}"
                                 for c in changes) if changes else "") + ".")
    return text


def _largest(moved: dict) -> str:
    """The largest move of a test metric, and whose (the JSON file keeps its keys sorted by name, not by size)."""
    if not moved["largest_moves"]:
        return "0"
    key, delta = max(moved["largest_moves"].items(), key=lambda item: abs(item[1]))
    return f"{delta:+.3g} for `{key}`"


def line_key(record: dict) -> str:
    """How the check names a concept line (a record of reports/concepts.json)."""
    return f"{record['concept']} | {record['compares']}"


def note(reports: Path, outcomes: dict[str, str]) -> list[str]:
    """The report's paragraph on the robustness check of the concept table: its result, and whether it compared the
    verdicts shown (`outcomes`: each line's outcome, keyed as the check keys them) or an earlier run's."""
    found = reports / "robustness.json"
    if not found.is_file():
        return ["", "**Robustness:** not checked: `python -m stages.tools.robustness` reruns the pipeline under a float "
                "perturbation and writes reports/robustness.json."]
    result = json.loads(found.read_text())
    differ = sorted(key for key in set(outcomes) | set(result["baseline_outcomes"])
                    if outcomes.get(key) != result["baseline_outcomes"].get(key))
    return ["", "**Robustness:** the concept rows' variants were trained again with the last bit of every initial "
            "weight flipped, a stand-in for another CPU, whose rounding grows like a new seed in chaotic runs. "
            + summary(result) + (" The check compared exactly the verdicts above." if not differ else
                                 f" It compared an earlier run: {len(differ)} of the lines above have another "
                                 "outcome now (rerun the check).")]
