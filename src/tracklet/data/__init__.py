"""Datasets for ``log_input``: ``from_pandas``, ``from_numpy``, ``from_spark``,
``from_huggingface`` and their sources.

Names, digests, schemas, profiles and source JSON are MLflow's, so a run logged with
``tracklet.data.from_pandas(df)`` records what ``mlflow.data.from_pandas(df)`` would::

    import tracklet as mlflow

    dataset = mlflow.data.from_pandas(df, source="data/train.csv", name="train")
    with mlflow.start_run():
        mlflow.log_input(dataset, context="training")

pandas, numpy, pyspark and ``datasets`` are imported only when a dataset is built from them.
"""

from __future__ import annotations

from typing import Any

from tracklet.data import sources
from tracklet.data.dataset import Dataset
from tracklet.data.dataset_source import DatasetSource
from tracklet.data.dataset_source_registry import get_dataset_source_from_json
from tracklet.data.huggingface_dataset import HuggingFaceDataset, from_huggingface
from tracklet.data.numpy_dataset import NumpyDataset, from_numpy
from tracklet.data.pandas_dataset import PandasDataset, from_pandas
from tracklet.data.spark_dataset import SparkDataset, from_spark
from tracklet.entities import Dataset as DatasetEntity
from tracklet.entities import DatasetInput
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException

__all__ = [
    "Dataset",
    "DatasetSource",
    "HuggingFaceDataset",
    "NumpyDataset",
    "PandasDataset",
    "SparkDataset",
    "from_huggingface",
    "from_numpy",
    "from_pandas",
    "from_spark",
    "get_source",
    "sources",
]


def get_source(dataset: Any) -> DatasetSource:
    """The source of a dataset, of a logged dataset entity, or of a run's dataset input.

    Args:
        dataset: A ``tracklet.data.Dataset``, a ``tracklet.entities.Dataset`` (as in
            ``run.inputs.dataset_inputs[0].dataset``) or a ``tracklet.entities.DatasetInput``.

    Returns:
        The DatasetSource, parsed from the stored JSON for entities.

    Raises:
        MlflowException: For any other type, or a stored source type tracklet does not know.
    """
    if isinstance(dataset, DatasetInput):
        dataset = dataset.dataset
    if isinstance(dataset, DatasetEntity):
        return get_dataset_source_from_json(dataset.source, dataset.source_type)
    if isinstance(dataset, Dataset):
        return dataset.source
    raise MlflowException(
        f"Unrecognized dataset type {type(dataset)}. Expected one of: `tracklet.data.Dataset`,"
        " `tracklet.entities.Dataset`, `tracklet.entities.DatasetInput`.",
        INVALID_PARAMETER_VALUE,
    )
