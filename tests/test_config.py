"""params.yaml validation: every bad value is one line naming file, key, value and what is allowed."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest
import yaml

from stages import config
from stages.common.errors import EXIT_BAD_PARAMS, ParamsError
from tests.conftest import REPO, run

BASE = yaml.safe_load((REPO / "params.yaml").read_text())


def with_change(path: str, value) -> dict:
    """A copy of the repo's params with the key at dotted `path` set (or deleted when value is DELETE)."""
    raw = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = raw
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return raw


DELETE = object()


def test_repo_params_are_valid():
    params = config.load(REPO / "params.yaml")
    assert params.data.source == "offline"
    assert params.data.datasets == ["fashion_mnist", "breast_cancer", "california_housing"]


@pytest.mark.parametrize("path, value, expected", [
    ("data.source", "kagle", "params.yaml: data.source: 'kagle' is not one of: offline, kaggle "
                             "(did you mean 'kaggle'?)"),
    ("data.sourc", "kaggle", "params.yaml: data.sourc: unknown key; allowed: source, datasets"),
    ("data.datasets", ["mnist"], "data.datasets[0]: 'mnist' is not one of: fashion_mnist"),
    ("data.datasets", [], "data.datasets: []: must have at least 1 item"),
    ("data.datasets", ["breast_cancer", "breast_cancer"], "data.datasets: lists breast_cancer more than once"),
    ("data.val_fraction", 0.9, "data.val_fraction: 0.9: must be less than or equal to 0.5"),
    ("data.val_fraction", "big", "data.val_fraction: 'big': must be a valid number"),
    ("data.split_seed", -1, "data.split_seed: -1: must be greater than or equal to 0"),
    ("data.split_seed", 1.5, "data.split_seed: 1.5: must be a valid integer"),
    ("data.source", DELETE, "data.source: required key is missing"),  # params.yaml holds every value
    ("defaults.momentum", DELETE, "defaults.momentum: required key is missing"),
    ("data.datasets", DELETE, "data.datasets: required key is missing"),
    # a value set inside one variant is named where the user set it, not where the merged config holds it
    ("studies.optimizers.variants.adam.sweep.learning_rate", [-0.1, 0.01],
     "params.yaml: studies.optimizers.variants.adam.sweep.learning_rate[0]: -0.1: must be greater than 0"),
])
def test_bad_values_are_named(path, value, expected):
    raw = with_change(path, value)
    with pytest.raises(ParamsError) as caught:
        config.parse(raw)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_unknown_section_is_rejected_with_suggestion():
    raw = copy.deepcopy(BASE)
    raw["dta"] = {}
    with pytest.raises(ParamsError, match=r"params.yaml: dta: unknown key; allowed: data.*did you mean 'data'"):
        config.parse(raw)


def test_scientific_notation_reads_as_float(tmp_path):
    text = (REPO / "params.yaml").read_text().replace("download_backoff_s: 2", "download_backoff_s: 5e-1")
    assert "5e-1" in text
    (tmp_path / "params.yaml").write_text(text)
    assert config.load(tmp_path / "params.yaml").data.download_backoff_s == 0.5


def test_broken_yaml_names_the_line(tmp_path):
    (tmp_path / "params.yaml").write_text("data:\n  source: [offline\n")
    with pytest.raises(ParamsError, match=r"params.yaml: line \d+, column \d+: not valid YAML"):
        config.load(tmp_path / "params.yaml")


def test_a_variant_written_twice_is_an_error_not_the_last_one_silently(tmp_path):
    text = (REPO / "params.yaml").read_text().replace("      sgd: {optimizer: sgd}\n",
                                                      "      sgd: {optimizer: sgd}\n      sgd: {optimizer: adam}\n")
    (tmp_path / "params.yaml").write_text(text)
    with pytest.raises(ParamsError, match=r"params.yaml: line \d+, column 7: not valid YAML: duplicate key 'sgd'"):
        config.load(tmp_path / "params.yaml")


def test_config_objects_are_frozen():
    params = config.load(REPO / "params.yaml")
    with pytest.raises(Exception):
        params.data.source = "kaggle"


@pytest.mark.e2e
def test_validate_stage_exits_2_with_one_line_and_writes_nothing(tmp_path):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(with_change("data.source", "kagle")))
    result = run([sys.executable, "-m", "stages.validate", "--stamp", "ok.txt"], tmp_path)
    assert result.returncode == EXIT_BAD_PARAMS
    assert result.stderr.strip() == ("error: params.yaml: data.source: 'kagle' is not one of: offline, "
                                     "kaggle (did you mean 'kaggle'?)")
    assert not (tmp_path / "ok.txt").exists()


def with_study_change(study: str, key: str, value) -> dict:
    raw = copy.deepcopy(BASE)
    if value is DELETE:
        del raw["studies"][study][key]
    else:
        raw["studies"][study][key] = value
    return raw


@pytest.mark.parametrize("study, key, value, expected", [
    ("optimizers", "variants", {"minibatch_sgd": {"optimizer": "minibatch_sgd"}, "adamw": {"optimizer": "adamw"}},
     "studies.optimizers.variants.adamw.optimizer: 'adamw' is not one of: batch_gd"),
    ("optimizers", "variants", {"adam": {"optimiser": "adam"}},
     "studies.optimizers.variants.adam.optimiser: unknown key; allowed: dataset"),
    ("optimizers", "set", {"epoch": 3}, "studies.optimizers.set.epoch: unknown key; allowed: dataset"),
    ("optimizers", "set", {"epochs": 0}, "studies.optimizers.set.epochs: 0: must be greater than or equal to 1"),
    ("optimizers", "set", {"dataset": "breast_cancer"}, "studies.optimizers.set.dataset: set the study's data"),
    ("optimizers", "dataset", "mnist", "studies.optimizers.dataset: 'mnist' is not one of: fashion_mnist"),
    ("optimizers", "variants", {}, "studies.optimizers.variants: {}: must have at least 1 item"),
    ("optimizers", "vary", ["adam"], "studies.optimizers.vary: unknown key; allowed: question, dataset"),
    ("optimizers", "variants", DELETE, "studies.optimizers.variants: required key is missing"),
    ("regression_losses", "dataset", "breast_cancer",
     "studies.regression_losses.conditions.outliers.outlier_share: 0.15 needs a regression dataset; "
     "breast_cancer is binary"),
    ("classification_losses", "variants", {"binary_crossentropy": {"loss": "binary_crossentropy"},
                                           "huber": {"loss": "huber"}},
     "studies.classification_losses.variants.huber.loss: 'huber' does not fit fashion_mnist (binary, by "
     "positive_classes); allowed: mse, binary_crossentropy"),
    ("regression_losses", "set", {"positive_classes": [1]},
     "studies.regression_losses.conditions.clean.positive_classes: [1] needs a multiclass dataset; "
     "california_housing is regression"),
    ("gradient_noise", "variants", {"b1": {"batch_size": 0}},
     "studies.gradient_noise.variants.b1.batch_size: 0: must be greater than or equal to 1"),
    ("activations", "conditions", {"deep": {"hidden": [32, -1]}},
     "studies.activations.conditions.deep.hidden[1]: -1: must be greater than or equal to 1"),
    ("regularization", "variants", {"l1": {"regularizer": "lasso"}},
     "studies.regularization.variants.l1.regularizer: 'lasso' is not one of: none, l1, l2, l1_l2"),
    ("regularization", "variants", {"dropout": {"dropout": 1.0}},
     "studies.regularization.variants.dropout.dropout: 1.0: must be less than 1"),
])
def test_bad_study_values_are_named(study, key, value, expected):
    with pytest.raises(ParamsError) as caught:
        config.parse(with_study_change(study, key, value))
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_study_referencing_a_dataset_not_downloaded():
    raw = with_change("data.datasets", ["fashion_mnist", "breast_cancer"])
    with pytest.raises(ParamsError, match="studies.regression_losses.conditions.clean.dataset: 'california_housing' "
                                          "is not in data.datasets"):
        config.parse(raw)


def test_study_configs_merge_in_order():
    params = config.load(REPO / "params.yaml")
    (condition, cfg), = config.study_configs(params, "gradient_noise", "full")
    assert condition == "" and cfg.optimizer == "batch_gd" and cfg.epochs == params.studies["gradient_noise"].set["epochs"]
    deep = dict(config.study_configs(params, "activations", "tanh"))["deep"]
    assert deep.activation == "tanh" and len(deep.hidden) >= 4 and deep.initializer == "standard_uniform"
    assert deep.optimizer == "minibatch_sgd" and deep.batch_size == 10
    with pytest.raises(ParamsError, match="studies: 'optimisers' is not one of: optimizers"):
        config.study_configs(params, "optimisers", "adam")


@pytest.mark.parametrize("path, value, expected", [
    ("defaults.optimizer", "adamm", "defaults.optimizer: 'adamm' is not one of: batch_gd, sgd, minibatch_sgd, "
                                    "momentum, adagrad, rmsprop, adam (did you mean 'adam'?)"),
    ("defaults.activation", "relu6", "defaults.activation: 'relu6' is not one of: sigmoid, tanh, relu, leaky_relu"),
    ("defaults.initializer", "he", "defaults.initializer: 'he' is not one of: glorot_uniform"),
    ("defaults.loss", "crossentropy", "defaults.loss: 'crossentropy' is not one of: mse, mae, huber"),
    ("defaults.regularizer", "l3", "defaults.regularizer: 'l3' is not one of: none, l1, l2, l1_l2"),
    ("defaults.dataset", "mnist", "defaults.dataset: 'mnist' is not one of: fashion_mnist"),
    ("defaults.learning_rate", 0, "defaults.learning_rate: 0: must be greater than 0"),
    ("defaults.learning_rate", -0.1, "defaults.learning_rate: -0.1: must be greater than 0"),
    ("defaults.dropout", 1.0, "defaults.dropout: 1.0: must be less than 1"),
    ("defaults.dropout", -0.1, "defaults.dropout: -0.1: must be greater than or equal to 0"),
    ("defaults.l2", -0.0001, "defaults.l2: -0.0001: must be greater than or equal to 0"),
    ("defaults.batch_size", 0, "defaults.batch_size: 0: must be greater than or equal to 1"),
    ("defaults.seeds", [], "defaults.seeds: []: must have at least 1 item"),
    ("defaults.seeds", [1, 1], "defaults.seeds: lists 1 more than once"),
    ("defaults.hidden", "64", "defaults.hidden: '64': must be a valid list"),
    ("defaults.hidden", [64.5], "defaults.hidden[0]: 64.5: must be a valid integer"),
    ("defaults.epochs", "ten", "defaults.epochs: 'ten': must be a valid integer"),
    ("defaults.nesterov", "yes", "defaults.nesterov: 'yes': must be a valid boolean"),
    ("defaults.loss", "huber", "defaults.loss: 'huber' does not fit fashion_mnist (multiclass); allowed: mse, "
                               "categorical_crossentropy"),
    ("defaults.sweep", {"momentum": [0.5]}, "defaults.sweep.momentum: 'momentum' is not one of: learning_rate, l1, l2, dropout, init_stddev"),
    ("defaults.sweep", {"learning_rate": [0.1, -1]}, "defaults.sweep.learning_rate[1]: -1.0: must be greater than 0"),
    ("defaults.sweep", {"dropout": [0.5, 1.5]}, "defaults.sweep.dropout[1]: 1.5: must be less than 1"),
    ("defaults.sweep", {"learning_rate": []}, "defaults.sweep.learning_rate: []: must have at least 1 item"),
    ("defaults.lerning_rate", 0.1, "defaults.lerning_rate: unknown key; allowed: dataset"),
    ("defaults.global_clipnorm", 0, "defaults.global_clipnorm: 0: must be greater than 0"),
    ("defaults.outlier_share", 0.1, "defaults.outlier_share: 0.1 needs a regression dataset"),
    ("report.significance", 1.5, "report.significance: 1.5: must be less than 1"),
])
def test_bad_defaults_are_named(path, value, expected):
    with pytest.raises(ParamsError) as caught:
        config.parse(with_change(path, value))
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)
    if "lerning" in path:
        assert "(did you mean 'learning_rate'?)" in str(caught.value)


def test_the_code_holds_no_default_of_its_own():
    """params.yaml is the one place for every value: no config field has a default in code."""
    models = [config.DataConfig, config.TrainConfig, config.StudyConfig, config.StudyReport, config.ReportConfig,
              config.FoundationsConfig, config.Params]
    with_default = [f"{model.__name__}.{name}" for model in models
                    for name, field in model.model_fields.items() if not field.is_required()]
    assert with_default == []


@pytest.mark.parametrize("path, value, expected", [
    ("report.studies.optimizers.roles", {"adaptive": ["adagrad", "rmsprops"]},
     r"report.studies.optimizers.roles.adaptive\[1\]: 'rmsprops' is not one of: batch_gd, .*\(did you mean 'rmsprop'\?\)"),
    ("report.studies.initializers.cures", {"normal_large_clippd": "normal_large"},
     r"report.studies.initializers.cures.normal_large_clippd: 'normal_large_clippd' is not one of"),
    ("report.studies.optimizers.baseline", "minibatch",
     r"report.studies.optimizers.baseline: 'minibatch' is not one of: batch_gd, .*\(did you mean 'minibatch_sgd'\?\)"),
    ("report.studies.activations.cures", {"tanh/deep": "sigmoid/depp"},
     r"report.studies.activations.cures.tanh/deep: 'depp' is not one of: shallow, deep, deep_glorot.*\(a condition\)"),
    ("report.studies.initializers.references", {"normal_large": "glorot_uniform"},
     r"report.studies.initializers.references.normal_large: not one of the study's cures: normal_large_clipped, "),
    ("report.studies.initializers.references", {"normal_large_clipped": "glorot_unifrom"},
     r"references.normal_large_clipped: 'glorot_unifrom' is not one of: .*did you mean 'glorot_uniform'"),
])
def test_report_settings_naming_what_the_study_lacks_are_params_errors(path, value, expected):
    """A misspelled variant in a role or cure, a baseline that is not trained, or an unknown condition."""
    with pytest.raises(ParamsError, match=expected):
        config.parse(with_change(path, value))


def test_every_study_needs_its_report_settings():
    raw = copy.deepcopy(BASE)
    del raw["report"]["studies"]["capacity"]
    with pytest.raises(ParamsError, match=r"report.studies: has no entry 'capacity'"):
        config.parse(raw)
    raw = copy.deepcopy(BASE)
    raw["report"]["studies"]["capacty"] = raw["report"]["studies"]["capacity"]
    with pytest.raises(ParamsError, match=r"report.studies.capacty: 'capacty' is not one of: .*did you mean 'capacity'"):
        config.parse(raw)


@pytest.mark.parametrize("study, variant", [(study, variant) for study, spec in BASE["studies"].items()
                                             for variant in spec["variants"]
                                             if variant != BASE["report"]["studies"][study]["baseline"]])
def test_an_experiment_may_leave_out_any_variant_but_the_baseline(study, variant):
    """`dvc exp run -S '~studies.optimizers.variants.adagrad'` trains six optimizers; roles, cures and concept rows
    that name adagrad stay valid (the report reads "not trained"), and no left-out name passes for a misspelling."""
    raw = copy.deepcopy(BASE)
    del raw["studies"][study]["variants"][variant]
    params = config.parse(raw)
    assert variant not in params.studies[study].variants


def test_a_concept_row_names_a_condition_of_its_study():
    rows = BASE["report"]["concepts"]
    for shows, expected in (("relu/mid", r"'mid' is not one of: shallow, deep, deep_glorot \(a condition"),
                            ("relu", r"'relu' names no condition; studies.activations trains each variant under "
                                     r"shallow, deep, deep_glorot")):
        bad = [*rows, {"concept": "x", "paper": "y", "study": "activations", "shows": shows, "endpoint": "test_metric",
                         "expect": None}]
        with pytest.raises(ParamsError, match=expected):
            config.parse(with_change("report.concepts", bad))


def test_the_signs_a_cure_row_may_declare_are_the_signs_its_study_compares_cures_on():
    """The schema names the endpoints apart from the analysis that computes them (config does not import it)."""
    from stages.analysis.cures import SIGNS
    from stages.config.schema import ENDPOINTS

    assert set(ENDPOINTS) - {"test_metric", "train_loss_auc", "finding"} == set(SIGNS)


@pytest.mark.parametrize("shows, study, endpoint, expected", [
    ("adam", "optimizers", "test_metric", r"report.concepts\[29\].endpoint: 'test_metric' does not fit `shows: adam`; "
     r"allowed: train_loss_auc \(studies.optimizers compares its variants on train_loss_auc"),
    ("tanh/deep", "activations", "train_loss_auc", r"allowed: test_metric, divergence, saturation, overfitting \(a "
     r"cure is judged on the test metric or on one of its failure's signs\)"),
    ("finding:xor", "foundations", "test_metric", r"allowed: finding \(a finding carries its own check\)"),
    ("adam", "optimizers", "speed", r"endpoint: 'speed' is not one of: test_metric, train_loss_auc, divergence"),
])
def test_a_concept_rows_endpoint_is_declared_and_fits_what_it_shows(shows, study, endpoint, expected):
    bad = [*BASE["report"]["concepts"], {"concept": "x", "paper": "y", "study": study, "shows": shows,
                                         "endpoint": endpoint, "expect": None}]
    with pytest.raises(ParamsError, match=expected):
        config.parse(with_change("report.concepts", bad))


@pytest.mark.parametrize("shows, study, endpoint, expect, expected", [
    ("finding:xor", "foundations", "finding", "better", r"expect: 'better': a finding carries its own check; allowed: "
     r"null"),
    ("normal_large_clipped", "initializers", "divergence", "equivalent", r"expect: 'equivalent' has no margin on "
     r"divergence"),
    ("adam", "optimizers", "train_loss_auc", "faster", r"expect: 'faster' is not one of: better, worse, equivalent"),
])
def test_a_concept_rows_expectation_is_one_its_test_can_judge(shows, study, endpoint, expect, expected):
    bad = [*BASE["report"]["concepts"], {"concept": "x", "paper": "y", "study": study, "shows": shows,
                                         "endpoint": endpoint, "expect": expect}]
    with pytest.raises(ParamsError, match=expected):
        config.parse(with_change("report.concepts", bad))


def test_label_noise_needs_a_classification_dataset():
    with pytest.raises(ParamsError, match=r"studies.regression_losses.conditions.clean.label_noise: 0.2 needs a "
                                          r"classification dataset; california_housing is regression"):
        config.parse(with_change("studies.regression_losses.conditions", {"clean": {"outlier_share": 0.0,
                                                                                    "label_noise": 0.2}}))


def test_a_concept_row_must_show_something_its_study_has():
    rows = BASE["report"]["concepts"]
    bad = [{**rows[0], "shows": "finding:perceptrons"}, *rows[1:]]
    with pytest.raises(ParamsError, match=r"report.concepts\[0\].shows: 'finding:perceptrons' is not one of: "
                                          r"finding:perceptron.*did you mean 'finding:perceptron'"):
        config.parse(with_change("report.concepts", bad))
    bad = [*rows, {"concept": "x", "paper": "y", "study": "optimizers", "shows": "adamw", "endpoint": "train_loss_auc",
                   "expect": "better"}]
    with pytest.raises(ParamsError, match=r"report.concepts\[\d+\].shows: 'adamw' is not one of: batch_gd, .*did you mean 'adam'.* "
                                          r"studies.optimizers"):
        config.parse(with_change("report.concepts", bad))


def test_hidden_layers_too_big_for_this_machine_are_a_params_error():
    with pytest.raises(ParamsError, match=r"defaults.hidden: \[65536, 65536, 65536\] needs about \d+ GiB for weights, "
                                          r"gradients and optimizer state; this machine has \d+ GiB"):
        config.parse(with_change("defaults.hidden", [65536, 65536, 65536]))


def test_a_stage_records_exactly_the_params_keys_it_reads(tmp_path):
    """With STAGES_PARAMS_LOG set, config.load() returns params that note each key read after loading: a leaf, a
    whole object dumped (defaults), a mapping's keys listed (conditions) or one entry looked up (a variant)."""
    log = tmp_path / "reads.jsonl"
    code = ("from stages import config; p = config.load(); p.report.overfit_gap; "
            "p.report.equivalence_margin.get('accuracy'); config.study_configs(p, 'optimizers', 'adam')")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, env={**os.environ, "STAGES_PARAMS_LOG": str(log),
                   "PYTHONPATH": str(REPO)})
    (record,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert record["reads"] == ["defaults", "report.equivalence_margin.accuracy", "report.overfit_gap",
                               "studies.optimizers.conditions", "studies.optimizers.dataset",
                               "studies.optimizers.set", "studies.optimizers.set.diagnostics",
                               "studies.optimizers.set.seeds",
                               "studies.optimizers.set.select_on", "studies.optimizers.set.sweep",
                               "studies.optimizers.set.train_rows", "studies.optimizers.variants.adam"]


def test_an_experiments_set_param_rewrites_only_the_lines_it_sets(tmp_path):
    """params.yaml is in the form DVC's `-S` writer reproduces byte for byte, so an experiment's git diff of it is
    the values it set and nothing else (a flow list in block context would come back one item per line)."""
    from dvc.utils.hydra import apply_overrides

    from stages.tools import params_format

    original = (REPO / "params.yaml").read_text()
    assert params_format.formatted(original) == original, "run `python -m stages.tools.params_format`"
    params = tmp_path / "params.yaml"
    params.write_text(original)
    apply_overrides(str(params), ["data.source=offline"])  # a no-op set
    assert params.read_text() == original
    apply_overrides(str(params), ["studies.optimizers.variants.adam.sweep.learning_rate=[0.003,0.01]",
                                  "defaults.epochs=30"])
    changed = [(a, b) for a, b in zip(original.splitlines(), params.read_text().splitlines()) if a != b]
    assert len(original.splitlines()) == len(params.read_text().splitlines())
    assert [b.strip() for _, b in changed] == ["epochs: 30", "sweep: {learning_rate: [0.003, 0.01]}"]
