"""End to end: the real `dvc repro` of every study on tiny params (the session's reproduced repo), and what users
do next with it: experiments, queues, clones, the run-cache across machines, plots in a browser."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from stages.catalog.datasets import DATASETS
from tests.conftest import clone_reproduced, dvc, run, subprocess_env, train_command
from tests.reproduce import reads_log
from tests.tiny import PARAMS, TINY_VARY

pytestmark = pytest.mark.e2e

def summary(repo, study):
    return json.loads((repo / "reports" / study / "summary.json").read_text())


def subprocess_ok(args, cwd):
    result = run(args, cwd)
    assert result.returncode == 0, result.stderr


def test_offline_repro_writes_every_processed_dataset(reproduced):
    for name in DATASETS.names:
        folder = reproduced / "data" / "processed" / name
        meta = json.loads((folder / "meta.json").read_text())
        assert meta["source"] == "offline" and meta["dataset"] == name
        for split in ("train", "val", "test"):
            assert len(np.load(folder / f"{split}.npz")["y"]) == meta["counts"][split]


@pytest.mark.parametrize("study", list(PARAMS["studies"]))
def test_every_study_has_summary_findings_and_curves(reproduced, study):
    spec = PARAMS["studies"][study]
    conditions = list(spec["conditions"]) or [""]
    found = summary(reproduced, study)
    expected = {f"{v}/{c}" if c else v for v in TINY_VARY[study] for c in conditions}
    assert set(found) == expected
    for entry in found.values():
        for key in ("val_metric", "test_low", "test_high", "test_metric", "train_loss", "val_loss", "generalization_gap",
                    "epochs_to_target", "diverged_runs", "best_setting", "p_vs_baseline", "p_adjusted", "verdict",
                    "diff_low", "diff_high", "p_equivalence_adjusted", "setting_on_grid_edge",
                    "grad_norm_first_over_last", "dead_fraction", "saturated_fraction", "weight_sparsity",
                    "noise_ratio", "noise_scale"):
            assert key in entry, key
    base = PARAMS["report"]["studies"][study]["baseline"]
    baseline = found[f"{base}/{conditions[0]}" if conditions[0] else base]
    assert baseline["p_vs_baseline"] is None and baseline["verdict"] is None
    others = [e for e in found.values() if e is not baseline and e["paired_seeds"]]
    assert all(e["verdict"] in ("better", "worse", "equivalent", "not resolved") for e in others)
    for condition in conditions:
        curve = (reproduced / "reports" / study / "curves" / condition / "val_loss.tsv").read_text().splitlines()
        assert curve[0].split("\t") == ["epoch", "variant", "val_loss"]
        assert [row.split("\t")[:2] for row in curve[1:]] == [[str(epoch), variant] for variant in TINY_VARY[study]
                                                               for epoch in range(3)]  # epochs 0..2, long
    if "learning_rate" in spec["set"].get("sweep", {}):
        assert "best_learning_rate" in next(iter(found.values()))
    findings = json.loads((reproduced / "reports" / study / "findings.json").read_text())
    assert set(findings) == {*(c or "all" for c in conditions), "cures", "references"}
    trained = set(found)
    for e in findings["cures"].values():  # a cure pair is compared only where both sides were trained
        assert {e["cure"], e["failure"]} <= trained
        assert e["verdict"] in ("better", "worse", "equivalent", "not resolved") if e["paired_seeds"] else e["verdict"] is None
    for e in findings["references"].values():  # so is a cure and its healthy reference
        assert {e["cure"], e["reference"]} <= trained and e["reaches"] in ("reaches", "falls short", "unclear")


def test_models_load_in_safe_mode(reproduced):
    variant = TINY_VARY["classification_losses"][0]
    code = "import keras, sys; m = keras.models.load_model(sys.argv[1], safe_mode=True); print(m.output_shape[-1])"
    loaded = run([sys.executable, "-c", code, f"models/classification_losses/{variant}/seed_1.keras"], reproduced)
    assert loaded.stdout.strip().splitlines()[-1] == "1", loaded.stderr


def test_report_has_every_study_with_figures(reproduced):
    text = (reproduced / "reports" / "README.md").read_text()
    assert text.index("## 1. Foundations") < text.index("## 2. ")
    for number, study in enumerate(PARAMS["studies"], 2):
        assert f"## {number}. {study.replace('_', ' ').capitalize()}" in text
    links = [line.split("](")[1].rstrip(")") for line in text.splitlines() if line.startswith("![")]
    assert links and all((reproduced / "reports" / link).is_file() for link in links)
    assert "**Verdicts**" in text and "Gradient-noise variance" in text


def test_plots_show_writes_html_with_every_study(reproduced, tmp_path):
    result = dvc("plots", "show", "--json", cwd=reproduced)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert not shown.get("errors"), shown.get("errors")
    for study in ["foundations", *PARAMS["studies"]]:
        assert any(key.startswith(study) and shown["data"][key] for key in shown["data"]), study
    html = dvc("plots", "show", "-o", str(tmp_path / "plots_html"), cwd=reproduced)
    assert html.returncode == 0 and (tmp_path / "plots_html" / "index.html").is_file()


def test_metrics_show_lists_each_study_by_its_headline_numbers_only(reproduced):
    shown = json.loads(dvc("metrics", "show", "--json", cwd=reproduced).stdout)
    files = next(iter(shown.values()))["data"]
    for study in PARAMS["studies"]:
        assert f"reports/{study}/summary.json" not in files  # every diagnostic stays a plain output
        numbers = files[f"reports/{study}/headline.json"]["data"]
        keys = {key for entry in numbers.values() for key in entry}
        assert {"test_metric", "test_low", "test_high"} <= keys and keys <= {
            "val_metric", "test_metric", "test_low", "test_high", "generalization_gap", "p_adjusted",
            *PARAMS["report"]["studies"][study]["headline"]}, study


def test_a_clone_with_no_cache_compares_against_head(reproduced, tmp_path):
    """HEAD's headline metrics and curve tables are in git: a plain clone (no remote, an empty DVC cache, nothing
    reproduced) shows them in `dvc metrics diff` and draws them in `dvc plots diff HEAD`."""
    clone = tmp_path / "fresh"
    subprocess_ok(["git", "clone", "-q", str(reproduced), str(clone)], tmp_path)
    headline = clone / "reports" / "optimizers" / "headline.json"
    numbers = json.loads(headline.read_text())
    variant = next(iter(numbers))
    numbers[variant]["test_metric"] += 0.5  # as if an experiment had changed it
    headline.write_text(json.dumps(numbers))
    diff = dvc("metrics", "diff", "--json", cwd=clone)
    assert diff.returncode == 0 and "failed to load" not in diff.stderr, diff.stderr
    changed = json.loads(diff.stdout)["reports/optimizers/headline.json"][f"{variant}.test_metric"]
    assert changed["old"] is not None and changed["new"] == pytest.approx(changed["old"] + 0.5)
    everything = json.loads(dvc("metrics", "diff", "--all", "--json", cwd=clone).stdout)
    for study in PARAMS["studies"]:
        assert all(entry["old"] is not None for entry in everything[f"reports/{study}/headline.json"].values()), study
    assert all(entry["old"] is not None for entry in everything["reports/foundations/summary.json"].values())
    plots = dvc("plots", "diff", "HEAD", "--json", cwd=clone)
    assert plots.returncode == 0, plots.stderr
    drawn = json.loads(plots.stdout)
    assert not drawn.get("errors"), drawn.get("errors")
    for study in ["foundations", *PARAMS["studies"]]:
        assert any(key.startswith(study) and drawn["data"][key] for key in drawn["data"]), study


def test_pipeline_timing_covers_every_stage_and_splits_training_from_overhead(reproduced):
    timing = json.loads((reproduced / "reports" / "pipeline_timing.json").read_text())
    listed = dvc("stage", "list", "--name-only", cwd=reproduced)
    assert listed.returncode == 0 and set(timing["stages"]) == set(listed.stdout.split())
    trains = {name: entry for name, entry in timing["stages"].items() if name.startswith("train_")}
    assert len(trains) == sum(len(vary) for vary in TINY_VARY.values())
    assert all(0 < entry["training_seconds"] < entry["wall_seconds"] for entry in trains.values())
    assert 0 < timing["stages"]["foundations"]["training_seconds"] < timing["stages"]["foundations"]["wall_seconds"]
    assert timing["overhead_seconds"] == pytest.approx(timing["total_seconds"] - timing["training_seconds"], abs=0.05)
    assert 0 < timing["noop_repro_seconds"] < timing["total_seconds"]


def test_second_repro_does_nothing(reproduced):
    result = dvc("repro", cwd=reproduced)
    assert result.returncode == 0
    assert "Running stage" not in result.stdout


@pytest.fixture(scope="module")
def editable(reproduced, tmp_path_factory) -> Path:
    """One clone for the code-edit tests, which restore each edit."""
    return clone_reproduced(reproduced, tmp_path_factory.mktemp("editable") / "clone")


@pytest.mark.parametrize("module", ["stages/nn/step.py", "stages/reporting/verdicts.py", "stages/tools/bench.py"])
def test_editing_code_makes_exactly_its_importers_stale(editable, module):
    """An edit to a module re-runs every stage that imports it (dvc status lists them) and no other."""
    from tests.imports import closure

    stages = yaml.safe_load((editable / "dvc.yaml").read_text())["stages"]
    commands = {name: re.search(r"-m (stages[\w.]*)", stage["cmd"]).group(1) for name, stage in stages.items()}
    expected = {name for name, command in commands.items() if Path(module) in closure(command)}
    path = editable / module
    original = path.read_text()
    try:
        path.write_text(original + "\n# an edit\n")
        status = json.loads(dvc("status", "--json", cwd=editable).stdout or "{}")
    finally:
        path.write_text(original)
    listed = {name.split("@")[0] for name in status}
    assert listed == expected, module
    assert json.loads(dvc("status", "--json", cwd=editable).stdout or "{}") == {}


def test_training_is_byte_identical_on_rerun(reproduced, tmp_path):
    """One retrain of a variant, on one worker, gives the bytes the reproduced repo's own run wrote: the same params
    and seeds give the same metrics and histories (tests/test_parallel.py compares worker counts on purpose)."""
    study, variant = "classification_losses", TINY_VARY["classification_losses"][0]
    result = run(train_command(study, variant, Path("data/processed"), tmp_path), reproduced,
                 TRAIN_WORKERS="1")
    assert result.returncode == 0, result.stderr
    committed = reproduced / "reports" / study / "runs" / variant

    def files(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    rerun = files(tmp_path / "runs")
    assert {"metrics.json", "history.json"} <= set(rerun)
    assert rerun == files(committed)


def test_the_matrix_splits_across_machines_through_the_run_cache(reproduced, tmp_path):
    """Machines A and B each train a disjoint part of the matrix and push their run-cache to one remote; machine C
    fetches it and evaluates both studies without training anything, byte-identical to one machine's run. With the
    rest of the run-cache pushed too, C (no dvc.lock) reproduces every train stage without training."""
    remote, studies = tmp_path / "remote", ("classification_losses", "regression_losses")
    clones = {}
    for machine, study in [("a", studies[0]), ("b", studies[1]), ("c", None)]:
        clone = clones[machine] = tmp_path / machine
        subprocess_ok(["git", "clone", "-q", str(reproduced), str(clone)], tmp_path)
        (clone / "dvc.lock").unlink(missing_ok=True)
        added = dvc("remote", "add", "-d", "team", str(remote), cwd=clone)
        assert added.returncode == 0, added.stderr
        if study:
            trained = dvc("repro", "--glob", f"train_{study}@*", cwd=clone)
            assert trained.returncode == 0, trained.stdout[-3000:] + trained.stderr[-3000:]
            ran = {line.split("'")[1] for line in trained.stdout.splitlines() if line.startswith("Running stage 'train_")}
            assert ran == {f"train_{study}@{variant}" for variant in TINY_VARY[study]}
            pushed = dvc("push", "--run-cache", cwd=clone)
            assert pushed.returncode == 0, pushed.stderr
    fetched = dvc("fetch", "--run-cache", cwd=clones["c"])
    assert fetched.returncode == 0, fetched.stderr
    result = dvc("repro", "--pull", *(f"evaluate_{study}" for study in studies), cwd=clones["c"])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ran = {line.split("'")[1] for line in result.stdout.splitlines() if line.startswith("Running stage")}
    assert not [name for name in ran if name.startswith(("train_", "preprocess"))], ran  # restored, not rerun
    assert {f"evaluate_{study}" for study in studies} <= ran  # (downloads of the offline stand-ins rerun: seconds)
    for study in studies:
        for name in ("summary.json", "headline.json"):
            path = Path("reports") / study / name
            assert (clones["c"] / path).read_bytes() == (reproduced / path).read_bytes(), path
    # Then a teammate pushes the whole pipeline's run-cache (a clone sharing the reproduced repo's cache): machine C,
    # which has no dvc.lock for the rest, reproduces everything without training, evaluating or probing again.
    teammate = clone_reproduced(reproduced, tmp_path / "teammate")
    (clones["c"] / "dvc.lock").unlink()  # the two evaluated studies too must now come from the run-cache
    assert dvc("remote", "add", "-d", "team", str(remote), cwd=teammate).returncode == 0
    pushed = dvc("push", "--run-cache", cwd=teammate)
    assert pushed.returncode == 0, pushed.stderr
    fetched = dvc("fetch", "--run-cache", cwd=clones["c"])
    assert fetched.returncode == 0, fetched.stderr
    # Every train stage (and what it needs) comes from the run-cache. (evaluate and foundations keep their headline
    # and curves in git, cache: false, which DVC's run-cache does not restore: they would re-run from these.)
    result = dvc("repro", "--pull", "--glob", "train_*", cwd=clones["c"])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ran = [line for line in result.stdout.splitlines() if line.startswith("Running stage")]
    assert not [line for line in ran if "train_" in line], ran
    for study in PARAMS["studies"]:
        for variant in TINY_VARY[study]:
            for found in sorted((reproduced / "reports" / study / "runs" / variant).rglob("history.json")):
                name = found.relative_to(reproduced)
                assert (clones["c"] / name).read_bytes() == found.read_bytes(), name


def stale_stages(repo: Path) -> set[str]:
    """The stages `dvc status` lists as changed."""
    result = dvc("status", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


def test_a_params_edit_makes_exactly_the_stages_that_read_it_stale(reproduced_clone):
    """One variant's entry re-runs that variant's train stage, its study's evaluate stage (it reads the variant
    names) and the report, no other variant (validate checks any edit to the file); a report threshold re-runs the
    evaluate stages."""
    repo = reproduced_clone
    study, variant = "optimizers", TINY_VARY["optimizers"][-1]
    original = (repo / "params.yaml").read_text()
    params = yaml.safe_load(original)
    params["studies"][study]["variants"][variant]["sweep"] = {"learning_rate": [0.02]}
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert stale_stages(repo) == {"validate", f"train_{study}@{variant}", f"evaluate_{study}", "report"}
    params = yaml.safe_load(original)
    params["report"]["overfit_gap"] = 0.1
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert stale_stages(repo) == {"validate", "report", *(f"evaluate_{s}" for s in PARAMS["studies"])}


def test_bad_param_stops_dvc_before_any_output_is_touched(reproduced_clone):
    repo = reproduced_clone
    processed = repo / "data" / "processed" / "breast_cancer" / "train.npz"
    before = processed.read_bytes()
    params = repo / "params.yaml"
    good = params.read_text()
    params.write_text(good.replace("split_seed: 0", "split_seed: -3"))
    try:
        result = dvc("repro", cwd=repo)
        assert result.returncode != 0
        assert "params.yaml: data.split_seed: -3: must be greater than or equal to 0" in result.stdout + result.stderr
        assert processed.read_bytes() == before
        assert (repo / "reports" / "optimizers" / "summary.json").exists()
        params.write_text(good)
        experiment = dvc("exp", "run", "-S", "defaults.optimizer=adamm", cwd=repo)
        assert experiment.returncode != 0
        assert ("params.yaml: defaults.optimizer: 'adamm' is not one of: batch_gd, sgd, minibatch_sgd, momentum, "
                "adagrad, rmsprop, adam (did you mean 'adam'?)") in experiment.stdout + experiment.stderr
        assert processed.read_bytes() == before
        # What the README says a failed experiment leaves: the bad value in params.yaml, the stamp and every output
        # in place, so that `git checkout params.yaml` alone makes the workspace up to date again.
        assert "adamm" in params.read_text() and (repo / "data" / "params.ok").is_file()
        assert "validate" in stale_stages(repo)
        subprocess_ok(["git", "checkout", "params.yaml"], repo)
        assert stale_stages(repo) == set()
    finally:
        params.write_text(good)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(not CHROMIUM, reason="no Chromium found: `apt-get install chromium` to run "
                                                        "the browser tests (.ci/run does)")


def render(page: Path, tmp_path: Path) -> str:
    """The DOM of a local page after headless Chromium ran its scripts, with every network lookup failing."""
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--proxy-server=127.0.0.1:1", "--virtual-time-budget=20000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@needs_browser
def test_plots_draw_offline_with_a_line_per_variant(reproduced, tmp_path):
    result = dvc("plots", "show", "-o", str(tmp_path / "plots"), cwd=reproduced)
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "plots" / "index.html").read_text()
    assert "<script src=" not in html  # nothing to fetch: vega, vega-lite and vega-embed are inline
    dom = render(tmp_path / "plots" / "index.html", tmp_path)
    divs = dict(re.findall(r'<div id="([^"]+)"(.*?)(?=<div id="|</body>)', dom, flags=re.S))
    assert len(divs) >= 2 * len(PARAMS["studies"])
    for plot_id, content in divs.items():
        assert "<svg" in content and "role-mark" in content, f"{plot_id} drew nothing"
    variants = list(yaml.safe_load((reproduced / "params.yaml").read_text())["studies"]["optimizers"]["variants"])
    lines = len(re.findall(r'aria-roledescription="line mark"', divs["optimizers_val_loss"]))
    assert lines == len(variants)  # one colored, labeled line per variant
    for variant in variants:
        assert f">{variant}</text>" in divs["optimizers_val_loss"]  # in the legend
    # A learning-rate chart draws a point per trained (variant, rate) with a loss, no other, and a cross on the top
    # edge (a point with no loss in its label) per rate where a run diverged.
    for study in ("optimizers", "gradient_noise"):
        rows = [line.split("\t") for line in
                (reproduced / "reports" / study / "curves" / "lr_val_loss.tsv").read_text().splitlines()[1:]]
        labels = re.findall(r'<path aria-label="([^"]*)"[^>]*aria-roledescription="point"', divs[f"{study}_lr"])
        drawn = [label for label in labels if "validation loss" in label]
        assert len(drawn) == sum(row[2] != "" for row in rows), study
        assert len(labels) - len(drawn) == sum(int(row[3]) > 0 for row in rows), study


@needs_browser
def test_report_renders_with_every_figure(reproduced, tmp_path):
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark").enable("table").render((reproduced / "reports" / "README.md").read_text())
    count = ("<script>window.addEventListener('load', () => { document.body.dataset.drawn = "
             "[...document.images].filter(i => i.naturalWidth > 0).length; });</script>")
    base = f"<base href='{(reproduced / 'reports').as_uri()}/'>"  # the figures' links are relative to reports/
    page = tmp_path / "report.html"
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'>{base}{count}</head><body>{body}</body>"
                    "</html>")
    dom = render(page, tmp_path)
    images = len(re.findall(r"<img ", dom))
    assert images > 10 and f'data-drawn="{images}"' in dom  # every figure loaded
    assert dom.count("<table>") >= len(PARAMS["studies"])


def test_an_interrupted_exp_run_leaves_git_clean_and_the_next_one_runs(reproduced_clone):
    """SIGTERM inside a train stage of `dvc exp run` after another train stage finished (DVCLive's end once
    `git add`ed its staging files), then `dvc exp run` again: it runs, and no staging path is left anywhere."""
    repo = reproduced_clone
    command = [sys.executable, "-m", "dvc", "exp", "run", "-S", "studies.optimizers.set.epochs=5", "train_optimizers"]
    child = subprocess.Popen(command, cwd=repo, env=subprocess_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    trains = 0
    for line in child.stdout:
        trains += line.startswith("Running stage 'train_optimizers@")
        if trains == 2:  # the first train stage finished; the second is starting
            time.sleep(4)
            os.killpg(child.pid, signal.SIGTERM)
            break
    child.wait(timeout=120)
    assert trains == 2 and child.returncode != 0
    again = dvc("exp", "run", "train_optimizers", cwd=repo)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    status = run(["git", "status", "--porcelain"], repo).stdout
    assert ".tmp" not in status, status
    assert not [p for p in repo.rglob("*.tmp") if ".dvc" not in p.parts and ".git" not in p.parts]


def test_a_retrain_with_the_same_results_reruns_nothing_downstream(reproduced_clone):
    """Wall-clock times live in their own output: retraining a variant changes its timing (and the .keras files'
    save dates), never its metrics, so evaluate and report stay up to date; only `timing` is stale."""
    repo = reproduced_clone
    assert json.loads(dvc("status", "--json", cwd=repo).stdout or "{}") == {}  # a clone is up to date
    stage = f"train_classification_losses@{TINY_VARY['classification_losses'][0]}"
    forced = dvc("repro", "--force", "--single-item", stage, cwd=repo)
    assert forced.returncode == 0, forced.stdout[-2000:] + forced.stderr[-2000:]
    stale = json.loads(dvc("status", "--json", cwd=repo).stdout or "{}")
    assert set(stale) == {"timing"}, stale


def covers(declared: str, read: str) -> bool:
    """A declared params key covers a read of itself or of anything inside it."""
    return read == declared or read.startswith(declared + ".")


def test_each_stage_declares_exactly_the_params_it_reads(reproduced):
    """Every params key a stage read while the reproduced repo was built (recorded through the config objects,
    stages/config/recording.py) is covered by its dvc.yaml `params:`, and every key listed there is read: an edit
    re-runs exactly the stages it can change, as tests/test_structure.py holds the code deps to the imports. A key
    some runs of a command read only when their data call for it (a threshold for a failure that one study shows)
    counts as read when any stage running that command read it."""
    from dvc.repo import Repo

    records = [json.loads(line) for line in reads_log(reproduced).read_text().splitlines()]
    reads = {(Path(r["argv"][0]).with_suffix("").name, tuple(r["argv"][1:])): set(r["reads"]) for r in records}
    unread: dict[str, dict[str, list[str]]] = {}  # command -> declared key -> the stages that never read it
    read_somewhere: dict[str, set[str]] = {}
    for stage in Repo(str(reproduced)).index.stages:
        _, _, module, *args = shlex.split(stage.cmd)
        read = reads.pop((module.rsplit(".", 1)[-1], tuple(args)), set())  # no record: it never loaded params
        if any(str(dep.def_path) == "params.yaml" and not hasattr(dep, "params") for dep in stage.deps):
            continue  # validate reads all of params.yaml, and lists it whole
        declared = [key for dep in stage.deps if hasattr(dep, "params") for key in dep.params]
        uncovered = sorted(key for key in read if not any(covers(d, key) for d in declared))
        assert not uncovered, f"{stage.addressing}: reads {uncovered}, which its dvc.yaml params: do not list"
        for key in declared:
            if any(covers(key, r) for r in read):
                read_somewhere.setdefault(module, set()).add(key)
            else:
                unread.setdefault(module, {}).setdefault(key, []).append(stage.addressing)
    assert not reads, f"stages that ran but are not in dvc.yaml: {sorted(reads)}"
    never = {key: stages for module, keys in unread.items() for key, stages in keys.items()
             if key not in read_somewhere.get(module, set())}
    assert not never, f"params listed but never read: {never}"
