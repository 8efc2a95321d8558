"""The robustness check's arithmetic: which runs a perturbation moved, which verdicts it changed, and what the report
says of a check made on another run than the one it shows."""
from __future__ import annotations

import json

from stages.reporting import robustness as words
from stages.tools import robustness


def lock(params: str = "p", **runs: str) -> dict:
    return {"stages": {name: {"params": {"params.yaml": {"epochs": params if name == "train_s@c" else "p"}},
                              "outs": [{"path": f"models/{name}", "md5": "m"},
                                       {"path": f"reports/x/runs/{name}", "md5": md5}]}
                       for name, md5 in runs.items()} | {"report": {"outs": [{"path": "reports/README.md", "md5": "r"}]}}}


def test_movement_counts_changed_runs_and_moved_test_metrics():
    runs = {"train_s@a": "1", "train_s@b": "2", "train_s@c": "3", "train_s@d": "4"}
    ours, theirs = lock(**runs), lock(**{**runs, "train_s@b": "9", "train_s@d": "8"})
    heads = {"s": {"a": {"test_metric": 0.9}, "b/deep": {"test_metric": 0.5}, "c": {"test_metric": 0.7},
                   "d": {"test_metric": 0.4}}}
    moved_heads = {"s": {"a": {"test_metric": 0.9}, "b/deep": {"test_metric": 0.62}, "c": {"test_metric": 0.7},
                         "d": {"test_metric": 0.39}}}
    moved = robustness.movement(ours, theirs, heads, moved_heads)
    assert (moved["train_stages"], moved["train_stages_changed"]) == (4, 2)
    assert (moved["variants"], moved["variants_moved"]) == (4, 2)
    assert list(moved["largest_moves"]) == ["s:b/deep", "s:d"] and moved["largest_moves"]["s:b/deep"] == 0.12
    assert moved["median_abs_move"] == 0.065
    redesigned = robustness.movement(ours, lock("q", **{**runs, "train_s@c": "7"}), heads,
                                     {"s": {**heads["s"], "c": {"test_metric": 0.1}}})
    assert (redesigned["train_stages"], redesigned["variants_moved"]) == (3, 0)  # other params: not a moved run


def test_a_verdict_change_is_a_change_of_outcome_not_of_wording():
    ours = [{"concept": "c", "compares": "x", "verdict": "shown", "outcome": "shown"},
            {"concept": "d", "compares": "y", "verdict": "not resolved with 5 seeds", "outcome": "not resolved"}]
    theirs = [{"concept": "c", "compares": "x", "verdict": "shown", "outcome": "shown"},
              {"concept": "d", "compares": "y", "verdict": "not resolved with 5 seeds (p 0.3)", "outcome": "not resolved"}]
    assert robustness.verdict_changes(ours, theirs) == []
    theirs[0] = {**theirs[0], "verdict": "not resolved: shown at this p, but ...", "outcome": "not resolved"}
    assert robustness.verdict_changes(ours, theirs) == [
        {"concept": "c", "compares": "x", "verdict": "shown", "other": "not resolved: shown at this p, but ..."}]
    assert robustness.verdict_changes(ours, theirs[1:])[0]["other"] == "missing"


def result(changed: list, outcomes: dict) -> dict:
    moved = {"train_stages": 4, "train_stages_changed": 2, "variants": 6, "variants_moved": 3, "median_abs_move": 0.01,
             "largest_moves": {"s:a": -0.05, "s:b": 0.02}}  # sorted by name, as the JSON file keeps them
    return {"perturbation": "init_ulp", "machine": {"processor": "cpu", "import_keras_seconds": 3.0,
                                                    "matmul_gflops": 200.0},
            "seconds": 600, "compared_lines": len(outcomes), "changed": changed, "baseline_outcomes": outcomes,
            "moved_by_perturbation": moved}


def test_the_report_says_whether_the_check_compared_the_verdicts_it_shows(tmp_path):
    assert "not checked" in " ".join(words.note(tmp_path, {"c | x": "shown"}))
    (tmp_path / "robustness.json").write_text(json.dumps(result([], {"c | x": "shown"})))
    text = " ".join(words.note(tmp_path, {"c | x": "shown"}))
    assert "2 of 4 train stages wrote other runs" in text and "-0.05 for `s:a`" in text
    assert "Verdicts changed: 0 of 1 concept lines." in text and "compared exactly the verdicts above" in text
    stale = " ".join(words.note(tmp_path, {"c | x": "not resolved"}))
    assert "It compared an earlier run: 1 of the lines above have another outcome now" in stale


def test_run_hashes_read_the_runs_folder_of_train_stages_only():
    assert list(robustness.run_hashes(lock(train_a="1"))) == ["train_a"]


def test_a_commit_that_trained_other_params_gives_no_machine_comparison():
    checked = result([], {"c | x": "shown"})
    checked["moved_by_another_machine"] = {"against": "2fda5acdeadbeef", "train_stages": 0, "train_stages_changed": 0,
                                           "variants": 0, "variants_moved": 0, "median_abs_move": 0.0,
                                           "largest_moves": {}}
    assert "commit 2fda5ac, made on another machine, trained every stage with other params" in words.summary(checked)
