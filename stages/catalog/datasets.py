"""Dataset registry: each Kaggle dataset with its CSV schema and an offline stand-in in the same layout."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from stages.common.registry import Registry

Task = Literal["multiclass", "binary", "regression"]


@dataclass(frozen=True)
class TableSchema:
    """What the CSV files of one source look like and how to read them."""

    files: tuple[str, ...]  # every file the source must provide; the first is the training table
    target: str
    test_file: str | None = None  # a test split the source ships; else we split one off
    drop: tuple[str, ...] = ()  # identifiers and known-empty columns
    categorical: tuple[str, ...] = ()  # one-hot encoded, categories taken from the training split
    impute: tuple[str, ...] = ()  # numeric columns known to have gaps (median of the training split)
    class_names: dict[str, str] = field(default_factory=dict)  # label value -> readable name

    @property
    def train_file(self) -> str:
        return self.files[0]


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: its task, where Kaggle keeps it, and how to write its offline stand-in."""

    name: str
    task: Task
    kaggle_handle: str
    kaggle: TableSchema
    offline: TableSchema
    offline_origin: str  # what the stand-in really is, recorded in SOURCE.json and the report
    build_offline: Callable[[Path], None]

    def schema(self, source: str) -> TableSchema:
        """The schema of the files written by `source` ('offline' or 'kaggle')."""
        return self.kaggle if source == "kaggle" else self.offline


FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
FASHION = TableSchema(
    files=("fashion-mnist_train.csv", "fashion-mnist_test.csv"),
    target="label",
    test_file="fashion-mnist_test.csv",
    class_names={str(i): name for i, name in enumerate(FASHION_CLASSES)},
)
DIGITS = TableSchema(files=FASHION.files, target="label", test_file=FASHION.test_file,
                     class_names={str(i): str(i) for i in range(10)})
WDBC = TableSchema(
    files=("data.csv",),
    target="diagnosis",
    drop=("id", "Unnamed: 32"),  # Kaggle's file ends every line with a comma: one empty column
    class_names={"B": "benign", "M": "malignant"},
)
HOUSING = TableSchema(files=("housing.csv",), target="median_house_value",
                      categorical=("ocean_proximity",), impute=("total_bedrooms",))
DIABETES = TableSchema(files=("housing.csv",), target="disease_progression")


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n")


def write_digits(folder: Path) -> None:
    """sklearn's 8x8 digits as Fashion-MNIST's `label,pixel1..pixel64` train and test files."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    frame = pd.DataFrame(digits.data.astype(int), columns=[f"pixel{i + 1}" for i in range(64)])
    frame.insert(0, "label", digits.target)
    # Fashion-MNIST ships 1/7 of its rows as the test file; mirror that split.
    train, test = train_test_split(frame, test_size=1 / 7, stratify=frame["label"], random_state=0)
    _write_csv(train, folder / DIGITS.files[0])
    _write_csv(test, folder / DIGITS.files[1])


def write_breast_cancer(folder: Path) -> None:
    """sklearn's copy of the 569 WDBC rows, with Kaggle's column names and trailing empty column."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    frame = pd.DataFrame(bunch.data, columns=[_kaggle_wdbc_name(n) for n in bunch.feature_names])
    frame.insert(0, "diagnosis", ["B" if t == 1 else "M" for t in bunch.target])
    frame.insert(0, "id", range(1, len(frame) + 1))
    frame[""] = float("nan")  # read back as 'Unnamed: 32', as Kaggle's file is
    _write_csv(frame, folder / WDBC.files[0])


def _kaggle_wdbc_name(sklearn_name: str) -> str:
    """'mean concave points' -> 'concave points_mean', 'radius error' -> 'radius_se'."""
    sklearn_name = sklearn_name.replace("fractal dimension", "fractal_dimension")
    for prefix, suffix in (("mean ", "_mean"), ("worst ", "_worst")):
        if sklearn_name.startswith(prefix):
            return sklearn_name[len(prefix):] + suffix
    return sklearn_name.removesuffix(" error") + "_se"


def write_diabetes(folder: Path) -> None:
    """sklearn's diabetes regression set (442 rows, 10 raw features) as housing.csv."""
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(scaled=False, as_frame=True)
    frame = bunch.data.copy()
    frame[DIABETES.target] = bunch.target
    _write_csv(frame, folder / DIABETES.files[0])


DATASETS: Registry[DatasetSpec] = Registry("dataset", {spec.name: spec for spec in (
    DatasetSpec("fashion_mnist", "multiclass", "zalando-research/fashionmnist", FASHION, DIGITS,
                "sklearn digits: 1,797 8x8 images of handwritten digits 0-9", write_digits),
    DatasetSpec("breast_cancer", "binary", "uciml/breast-cancer-wisconsin-data", WDBC, WDBC,
                "sklearn breast_cancer: the same 569 WDBC rows (ids renumbered)", write_breast_cancer),
    DatasetSpec("california_housing", "regression", "camnugent/california-housing-prices", HOUSING,
                DIABETES, "sklearn diabetes: 442 patients, 10 features, disease progression",
                write_diabetes),
)})
