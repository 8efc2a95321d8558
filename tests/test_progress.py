"""Off a terminal a long training is never silent for more than the heartbeat interval."""
from __future__ import annotations

from types import SimpleNamespace

from stages.nn import progress as progress_module
from stages.nn.progress import Progress


def finished_run(seed: int):
    return SimpleNamespace(point={"learning_rate": 0.1}, seed=seed, seconds=2.5, history=[{"epoch": 3}],
                           final={"diverged": False, "val_metric": 0.75})


def test_off_a_terminal_each_run_is_one_line_and_silence_gets_a_heartbeat(capsys, monkeypatch):
    progress = Progress("train_x@y", total_epochs=6, total_runs=2)  # pytest's captured stderr is no terminal
    assert progress.bar.disable
    progress.still_training()
    assert capsys.readouterr().out == ""  # just printed nothing: not due yet
    monkeypatch.setattr(progress_module, "HEARTBEAT_SECONDS", 0.0)
    progress.finished(finished_run(seed=4), "accuracy", epochs=3)
    progress.advance()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "train_x@y: learning_rate=0.1 seed=4: val accuracy 0.7500 (3 epochs, 2.5 s)"
    assert lines[1].startswith("train_x@y: still training, 1/2 runs done, ") and lines[1].endswith(" s so far")
    progress.close()


def test_a_recent_line_postpones_the_heartbeat(capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "HEARTBEAT_SECONDS", 3600.0)
    progress = Progress("train_x@y", total_epochs=6, total_runs=2)
    for _ in range(6):
        progress.advance()
    assert capsys.readouterr().out == ""
    progress.close()
