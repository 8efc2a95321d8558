"""The README's `dvc` commands, as a user types them, on the reproduced tiny repo: every experiment, queue, metrics,
plots and exp-show example runs as written and does what the README says it does."""
from __future__ import annotations

import json
import re
import shlex
import time
from pathlib import Path

import pytest

from tests.conftest import dvc
from tests.tiny import PARAMS, TINY_VARY


README = Path(__file__).resolve().parents[1] / "README.md"
KINDS = ("dvc exp run", "dvc exp show", "dvc metrics diff", "dvc plots show", "dvc plots diff", "dvc queue")


def readme_commands(text: str = README.read_text()) -> set[str]:
    """The `dvc` command lines of the README's "Your commands" section and its parallel-experiments recipe, in code
    spans or after a `$ ` prompt, of the kinds this test runs."""
    section = text.split("## Your commands", 1)[1].split("\n## ", 1)[0]
    section += text.split("**Parallel experiments:**", 1)[1].split("\n- **", 1)[0]
    found = re.findall(r"`(dvc [^`]+)`", section) + re.findall(r"^\$ (dvc .+)$", section, flags=re.MULTILINE)
    parts = [part.strip() for command in found for part in command.split("&&")]  # the screenshot recipe's chromium
    return {" ".join(part.split()) for part in parts if part.startswith(KINDS)}


class Workspace:
    """The clone the commands run in, and the README commands run so far."""

    def __init__(self, repo: Path):
        self.repo, self.ran_commands = repo, set()

    def run(self, command: str, **replace: str) -> str:
        """Run a README command (with `<placeholder>`s filled in); its standard output."""
        self.ran_commands.add(command)
        for name, value in replace.items():
            command = command.replace(f"<{name.replace('_', ' ')}>", value)
        done = dvc(*shlex.split(command)[1:], cwd=self.repo)
        assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        return done.stdout

    def experiment(self, command: str) -> list[str]:
        """Run a README `dvc exp run`: the stages it ran, in order."""
        return re.findall(r"^Running stage '([^']+)':", self.run(command), flags=re.MULTILINE)

    def headline(self, study: str) -> dict:
        return json.loads((self.repo / "reports" / study / "headline.json").read_text())


def test_the_readme_lists_the_commands_this_test_runs():
    assert readme_commands() == EXPECTED


SCREENSHOT = "dvc plots show optimizers_val_loss optimizers_val_metric optimizers_train_loss optimizers_lr -o /tmp/shot"
EXPECTED = {
    "dvc exp run -S '~studies.optimizers.variants.batch_gd'",
    "dvc exp run -S '+studies.optimizers.variants.nesterov={optimizer: momentum, nesterov: true}'",
    "dvc exp run -S 'studies.optimizers.variants.batch_gd.sweep.learning_rate=[0.7,1.0]' -S report.overfit_gap=0.1",
    "dvc metrics diff", "dvc metrics diff --targets reports/optimizers/headline.json",
    "dvc exp run --temp -S ++studies.optimizers.set.epochs=10",
    "dvc metrics diff HEAD <that experiment> --targets reports/optimizers/headline.json --no-path",
    "dvc exp show",
    "dvc exp show --drop '.*' --keep '^Experiment$|^(batch_gd|sgd|minibatch_sgd|momentum|adagrad|rmsprop|adam)"
    "\\.train_loss_auc$'",
    "dvc plots show", "dvc plots diff", "dvc plots diff HEAD", SCREENSHOT,
    "dvc exp run --queue -S studies.classification_losses.set.epochs=10",
    "dvc exp run --queue -S studies.classification_losses.set.epochs=20",
    "dvc queue start -j 2", "dvc queue status",
}


@pytest.mark.e2e
@pytest.mark.longest
def test_every_readme_command_runs_as_written(reproduced_clone):
    """Each command on the tiny fixture (whose optimizers study keeps batch_gd and minibatch_sgd), one after another
    in one clone, with what the README promises of it checked."""
    assert set(TINY_VARY["optimizers"]) == {"batch_gd", "minibatch_sgd"}  # the variants the examples name
    work = Workspace(reproduced_clone)
    commands = sorted(readme_commands())
    by_start = {prefix: next(c for c in commands if c.startswith(prefix)) for prefix in (
        "dvc exp run -S '~", "dvc exp run -S '+", "dvc exp run -S 'studies",
        "dvc exp run --temp", "dvc metrics diff HEAD", "dvc exp show --drop")}

    # Adding a variant trains it alone; metrics and plots diff against HEAD show both sides' variants. (The commands
    # run one after another in one workspace, as a user would: each one's promise holds from where the last left it.)
    ran = work.experiment(by_start["dvc exp run -S '+"])
    assert ran[:3] == ["validate", "train_optimizers@nesterov", "evaluate_optimizers"], ran
    assert sorted(ran[3:]) == ["report", "timing"], ran
    assert "nesterov.val_metric" in work.run("dvc metrics diff")
    only = work.run("dvc metrics diff --targets reports/optimizers/headline.json")
    assert "nesterov.val_metric" in only and "reports/activations" not in only
    shown = work.run(by_start["dvc exp show --drop"])
    header = shown.splitlines()[1]
    assert header.split()[:2] == ["Experiment", "batch_gd.train_loss_auc"], header
    named = dvc("exp", "ls", "--name-only", cwd=work.repo).stdout.split()
    assert "workspace" in shown and named and all(name in shown for name in named), shown  # rows say what they are
    work.run("dvc exp show")
    for command in ("dvc plots show", "dvc plots diff", "dvc plots diff HEAD", SCREENSHOT):
        work.run(command)
    drawn = json.loads(dvc("plots", "diff", "HEAD", "--json", cwd=work.repo).stdout)["data"]["optimizers_val_loss"]
    sides = {(row["rev"], row["variant"]) for chart in drawn for row in chart["content"]["data"]["values"]}
    assert {("HEAD", "batch_gd"), ("HEAD", "minibatch_sgd"), ("workspace", "nesterov")} <= sides, sides

    # Editing one variant retrains that variant only; a report threshold re-runs the comparisons, no training.
    ran = work.experiment(by_start["dvc exp run -S 'studies"])
    assert [stage for stage in ran if stage.startswith("train_")] == ["train_optimizers@batch_gd"], ran
    assert {f"evaluate_{study}" for study in PARAMS["studies"]} <= set(ran)

    # Leaving a variant out trains nothing; the study is compared without it.
    ran = work.experiment(by_start["dvc exp run -S '~"])
    assert not [stage for stage in ran if stage.startswith("train_")], ran
    assert "batch_gd" not in work.headline("optimizers") and "minibatch_sgd" in work.headline("optimizers")

    # The metrics demo's pair: a temporary experiment, then its diff against HEAD.
    before = set(dvc("exp", "ls", "--name-only", cwd=work.repo).stdout.split())
    work.run(by_start["dvc exp run --temp"])
    made = sorted(set(dvc("exp", "ls", "--name-only", cwd=work.repo).stdout.split()) - before)
    assert len(made) == 1, made
    diff = work.run(by_start["dvc metrics diff HEAD"], that_experiment=made[0])
    assert diff.split()[:4] == ["Metric", "HEAD", made[0], "Change"], diff[:300]

    # Two queued experiments run side by side, each keeping its own results.
    queued = [c for c in commands if c.startswith("dvc exp run --queue")]
    for command in queued:
        work.run(command)
    work.run("dvc queue start -j 2")
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        status = work.run("dvc queue status")
        if not any(word in status for word in ("Queued", "Running")):
            break
        time.sleep(3)
    assert "Failed" not in status, status
    results = {}
    for baseline in json.loads(dvc("exp", "show", "--json", cwd=work.repo).stdout):
        for experiment in baseline.get("experiments") or []:
            for rev in experiment.get("revs", []):
                data = rev["data"]
                epochs = data["params"]["params.yaml"]["data"]["studies"]["classification_losses"]["set"]["epochs"]
                if epochs in (10, 20):
                    results[epochs] = data["metrics"]["reports/classification_losses/headline.json"]["data"]
    assert set(results) == {10, 20} and results[10] != results[20]

    assert work.ran_commands == readme_commands()
