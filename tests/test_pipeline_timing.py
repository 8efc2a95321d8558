"""Pipeline timing: stage walls from DVC's output, training time from the stages' own records."""
from __future__ import annotations

import json

from stages.tools import pipeline_timing


def test_stage_walls_run_from_one_stage_line_to_the_next():
    lines = [(1.0, "Running stage 'validate':"), (1.5, "> python -m stages.validate"),
             (2.0, "Stage 'download@digits' didn't change, skipping"),
             (2.25, "Running stage 'train_optimizers@adam':"), (9.0, "Updating lock file 'dvc.lock'"),
             (9.5, "Running stage 'train_optimizers@adam':")]  # a repeated name does not start it again
    before, walls = pipeline_timing.stage_walls(lines, start=0.25, end=10.0)
    assert before == 0.75
    assert walls == {"validate": 1.0, "download@digits": 0.25, "train_optimizers@adam": 7.75}


def test_no_stage_lines_means_all_time_is_before_any_stage():
    assert pipeline_timing.stage_walls([(1.0, "Data and pipelines are up to date.")], 0.0, 2.0) == (2.0, {})


def test_training_time_is_summed_over_conditions_and_overhead_is_the_rest(tmp_path):
    for folder, seconds in (("optimizers/timing/adam", 4.0), ("activations/timing/relu/deep", 2.5),
                            ("activations/timing/relu/shallow", 1.5)):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "timing.json").write_text(json.dumps({"training_seconds": seconds,
                                                                   "runs": [{"steps": 10}, {"steps": 5}]}))
    (tmp_path / "foundations").mkdir()
    (tmp_path / "foundations" / "timing.json").write_text(json.dumps({"training_seconds": 3.0}))
    assert pipeline_timing.train_totals(tmp_path)["train_activations@relu"] == {"training_seconds": 4.0, "steps": 30}
    training = pipeline_timing.training_seconds(tmp_path)
    assert training == {"train_optimizers@adam": 4.0, "train_activations@relu": 4.0, "foundations": 3.0}
    del training["foundations"]
    walls = {"validate": 1.0, "train_optimizers@adam": 9.0, "train_activations@relu": 7.0}
    result = pipeline_timing.summarize(0.5, walls, training, total=18.0)
    result["noop_repro_seconds"] = 1.25  # main() times the no-op repro after the full one
    assert result["stages"]["train_optimizers@adam"]["overhead_seconds"] == 5.0
    assert result["training_seconds"] == 8.0 and result["overhead_seconds"] == 10.0
    assert result["groups"]["train_activations"] == {"stages": 1, "wall_seconds": 7.0, "training_seconds": 4.0,
                                                     "overhead_seconds": 3.0}
    text = pipeline_timing.table(result)
    assert "| train_optimizers | 1 | 9.0 | 4.0 | 5.0 |" in text and "1.2 s" in text


def test_a_stage_window_splits_into_dvc_before_the_command_the_command_and_dvc_after():
    lines = [(1.0, "Running stage 'validate':"), (1.5, "> python -m stages.validate --stamp data/params.ok"),
             (2.0, "Updating lock file 'dvc.lock'"), (2.75, "Stage 'download@digits' didn't change, skipping"),
             (3.0, "Running stage 'train_optimizers@adam':"), (3.25, "> python -m stages.train --study optimizers"),
             (9.0, "Updating lock file 'dvc.lock'")]
    phases = pipeline_timing.stage_phases(lines, end=10.0)
    assert phases == {"validate": {"dvc_before_seconds": 0.5, "command_seconds": 0.5, "dvc_after_seconds": 0.75},
                      "train_optimizers@adam": {"dvc_before_seconds": 0.25, "command_seconds": 5.75,
                                                "dvc_after_seconds": 1.0}}  # a skipped stage has no command
    assert pipeline_timing.stage_modules(lines) == ["stages.validate", "stages.train", "keras"]
    result = pipeline_timing.summarize(0.5, pipeline_timing.stage_walls(lines, 0.5, 10.0)[1], {}, total=9.5)
    pipeline_timing.add_phases(result, phases, {"python": 0.1, "stages.train": 0.4})
    result["noop_repro_seconds"] = 1.0
    assert result["dvc_seconds"] == 3.0 and result["command_seconds"] == 6.25  # 0.5 before the first stage
    assert "Of the overhead, 3 s was DVC's own work" in pipeline_timing.table(result)
    assert "python 0.1, train 0.4." in pipeline_timing.table(result)


def test_import_times_are_measured_in_fresh_interpreters():
    seconds = pipeline_timing.import_seconds(["json"], runs=1)
    assert set(seconds) == {"python", "json"} and 0 < seconds["python"] <= seconds["json"] + 0.5
