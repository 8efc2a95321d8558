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
    assert pipeline_timing.train_totals(tmp_path)["train_activations@relu"] == {"training_seconds": 4.0, "steps": 30}
    training = pipeline_timing.training_seconds(tmp_path)
    assert training == {"train_optimizers@adam": 4.0, "train_activations@relu": 4.0}
    walls = {"validate": 1.0, "train_optimizers@adam": 9.0, "train_activations@relu": 7.0}
    result = pipeline_timing.summarize(0.5, walls, training, total=18.0)
    result["noop_repro_seconds"] = 1.25  # main() times the no-op repro after the full one
    assert result["stages"]["train_optimizers@adam"]["overhead_seconds"] == 5.0
    assert result["training_seconds"] == 8.0 and result["overhead_seconds"] == 10.0
    assert result["groups"]["train_activations"] == {"stages": 1, "wall_seconds": 7.0, "training_seconds": 4.0,
                                                     "overhead_seconds": 3.0}
    text = pipeline_timing.table(result)
    assert "| train_optimizers | 1 | 9.0 | 4.0 | 5.0 |" in text and "1.2 s" in text
