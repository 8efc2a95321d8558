"""Offline stand-ins and preprocessing: schemas, leakage-free scaling, seeded splits, clear data errors."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from stages import config
from stages.ingest import tabular
from stages.catalog.datasets import DATASETS
from stages.common.errors import DataError
from stages.ingest.processed import preprocess
from tests.conftest import REPO

DATA = config.load(REPO / "params.yaml").data


def test_registry_covers_each_task_once():
    tasks = {DATASETS.get(name).task for name in DATASETS.names}
    assert tasks == {"multiclass", "binary", "regression"}


@pytest.mark.parametrize("name", DATASETS.names)
def test_offline_stand_in_uses_the_declared_schema(offline_raw, name):
    schema = DATASETS.get(name).offline
    record = json.loads((offline_raw / name / "SOURCE.json").read_text())
    assert record["source"] == "offline"
    assert sorted(record["files"]) == sorted(schema.files)
    frame = pd.read_csv(offline_raw / name / schema.train_file)
    assert schema.target in frame.columns


def test_breast_cancer_stand_in_matches_kaggle_columns(offline_raw):
    frame = pd.read_csv(offline_raw / "breast_cancer" / "data.csv")
    assert list(frame.columns[:3]) == ["id", "diagnosis", "radius_mean"]
    assert "concave points_worst" in frame.columns and "fractal_dimension_se" in frame.columns
    assert frame.columns[-1] == "Unnamed: 32" and frame["Unnamed: 32"].isna().all()
    assert len(frame) == 569 and set(frame["diagnosis"]) == {"B", "M"}


@pytest.mark.parametrize("name", DATASETS.names)
def test_preprocess_writes_splits_without_leakage(offline_raw, tmp_path, name):
    spec = DATASETS.get(name)
    meta = preprocess(spec, DATA, offline_raw / name, tmp_path / name)
    splits = {s: np.load(tmp_path / name / f"{s}.npz") for s in tabular.SPLITS}
    for split in splits.values():
        assert split["x"].dtype == np.float32 and len(split["x"]) == len(split["y"])
    # The scaler saw the training split only: training features are exactly standardized...
    train_x = splits["train"]["x"]
    varying = train_x.std(axis=0) > 0
    np.testing.assert_allclose(train_x.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(train_x[:, varying].std(axis=0), 1, atol=1e-4)
    # ...and its statistics are the raw training rows' own.
    schema = spec.offline
    raw = tabular.read_table(offline_raw / name / schema.train_file, schema, spec.task)
    test = (tabular.read_table(offline_raw / name / schema.test_file, schema, spec.task)
            if schema.test_file else None)
    frames = tabular.split_frames(raw, test, spec, schema.target, DATA.val_fraction, DATA.test_fraction,
                                   DATA.split_seed)
    columns = meta["scaler"]["columns"]
    np.testing.assert_allclose(meta["scaler"]["mean"], frames["train"][columns].mean().to_numpy(), rtol=1e-9)
    assert meta["counts"] == {s: len(frames[s]) for s in tabular.SPLITS}
    # No row is in two splits.
    index = [set(frames[s].index) for s in ("train", "val")]
    assert not index[0] & index[1]
    if not schema.test_file:
        assert not (index[0] | index[1]) & set(frames["test"].index)


def test_classification_split_is_stratified(offline_raw, tmp_path):
    preprocess(DATASETS.get("breast_cancer"), DATA, offline_raw / "breast_cancer", tmp_path)
    shares = [np.load(tmp_path / f"{s}.npz")["y"].mean() for s in tabular.SPLITS]
    assert max(shares) - min(shares) < 0.03


def test_preprocess_is_byte_identical_on_rerun(offline_raw, tmp_path):
    spec = DATASETS.get("california_housing")
    preprocess(spec, DATA, offline_raw / spec.name, tmp_path / "a")
    preprocess(spec, DATA, offline_raw / spec.name, tmp_path / "b")
    for name in ("train.npz", "val.npz", "test.npz", "meta.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_split_seed_changes_the_split(offline_raw, tmp_path):
    spec = DATASETS.get("breast_cancer")
    preprocess(spec, DATA, offline_raw / spec.name, tmp_path / "a")
    preprocess(spec, DATA.model_copy(update={"split_seed": 1}), offline_raw / spec.name, tmp_path / "b")
    assert not np.array_equal(np.load(tmp_path / "a" / "val.npz")["x"], np.load(tmp_path / "b" / "val.npz")["x"])


@pytest.mark.parametrize("edit, expected", [
    (lambda f: f.drop(columns=["diagnosis"]), "target column 'diagnosis' is missing"),
    (lambda f: f.assign(radius_mean=["big"] * len(f)), "column 'radius_mean' must be numeric; found 'big'"),
    (lambda f: f.assign(texture_mean=np.nan), "column 'texture_mean' is empty in every row"),
    (lambda f: f.assign(area_mean=np.inf), "column 'area_mean' holds infinite values"),
    (lambda f: f.assign(diagnosis="B"), "target column 'diagnosis' has a single class ('B')"),
    (lambda f: f.assign(symmetry_mean=[np.nan] + [1.0] * (len(f) - 1)), "column 'symmetry_mean' has 1 empty"),
])
def test_bad_tables_name_file_and_column(offline_raw, tmp_path, edit, expected):
    source = offline_raw / "breast_cancer"
    edit(pd.read_csv(source / "data.csv")).to_csv(tmp_path / "data.csv", index=False)
    with pytest.raises(DataError) as caught:
        tabular.read_table(tmp_path / "data.csv", DATASETS.get("breast_cancer").offline, "binary")
    assert str(tmp_path / "data.csv") in str(caught.value) and expected in str(caught.value)


def test_empty_file_and_repeated_header_are_named(tmp_path):
    schema = DATASETS.get("california_housing").offline
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty.csv: file is empty"):
        tabular.read_table(tmp_path / "empty.csv", schema, "regression")
    (tmp_path / "twice.csv").write_text("age,age,disease_progression\n1,2,3\n")
    with pytest.raises(DataError, match="twice.csv: header repeats column.s. age"):
        tabular.read_table(tmp_path / "twice.csv", schema, "regression")


@pytest.mark.e2e
def test_preprocess_does_not_import_tensorflow():
    from tests.conftest import run
    import sys

    code = "import sys, stages.download, stages.preprocess, stages.validate; print('tensorflow' in sys.modules)"
    assert run([sys.executable, "-c", code], REPO).stdout.strip() == "False"
