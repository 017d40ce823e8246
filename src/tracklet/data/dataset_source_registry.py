"""Which ``DatasetSource`` a raw source (a path, a URI) resolves to, and parsing stored sources.

The order is MLflow's: artifact-store schemes first, then HTTP, then code. When several sources
can resolve a value, the one registered last wins; user-registered sources come last of all.
"""

from __future__ import annotations

import warnings
from typing import Any

from tracklet.data.artifact_dataset_sources import ARTIFACT_DATASET_SOURCES
from tracklet.data.code_dataset_source import CodeDatasetSource
from tracklet.data.dataset_source import DatasetSource
from tracklet.data.http_dataset_source import HTTPDatasetSource
from tracklet.data.huggingface_dataset_source import HuggingFaceDatasetSource
from tracklet.data.spark_dataset import SparkDatasetSource
from tracklet.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException

_sources: list[type[DatasetSource]] = [
    *ARTIFACT_DATASET_SOURCES,
    HTTPDatasetSource,
    SparkDatasetSource,
    HuggingFaceDatasetSource,
    CodeDatasetSource,
]


def register_dataset_source(source: type[DatasetSource]) -> None:
    """Register a DatasetSource class; it takes precedence over those registered before it.

    Args:
        source: The DatasetSource subclass to register.
    """
    _sources.append(source)


def get_registered_sources() -> list[type[DatasetSource]]:
    """The registered DatasetSource classes, in registration order."""
    return list(_sources)


def resolve_dataset_source(
    raw_source: Any, candidate_sources: list[type[DatasetSource]] | None = None
) -> DatasetSource:
    """The DatasetSource for a raw source such as ``"s3://bucket/iris.csv"`` or ``"data/x.csv"``.

    Args:
        raw_source: The raw source, e.g. a path, a ``pathlib.Path`` or a URI string.
        candidate_sources: Consider only these classes (and their subclasses).

    Returns:
        An instance of the last registered source class that can resolve ``raw_source``.

    Raises:
        MlflowException: If no registered source can resolve ``raw_source``.
    """
    matching = []
    for source in _sources:
        if candidate_sources and not any(issubclass(source, c) for c in candidate_sources):
            continue
        try:
            if source._can_resolve(raw_source):
                matching.append(source)
        except Exception as e:
            warnings.warn(
                f"Failed to determine whether {source.__name__} can resolve source"
                f" information for '{raw_source}'. Exception: {e}",
                stacklevel=2,
            )
    if len(matching) > 1:
        names = ", ".join(source.__name__ for source in matching)
        warnings.warn(
            f"The specified dataset source can be interpreted in multiple ways: {names}."
            f" MLflow will assume that this is a {matching[-1].__name__} source.",
            stacklevel=2,
        )
    for source in reversed(matching):
        try:
            return source._resolve(raw_source)
        except Exception as e:
            warnings.warn(
                f"Encountered an unexpected error while using {source.__name__} to"
                f" resolve source information for '{raw_source}'. Exception: {e}",
                stacklevel=2,
            )
    raise MlflowException(
        "Could not find a source information resolver for the specified"
        f" dataset source: {raw_source}.",
        RESOURCE_DOES_NOT_EXIST,
    )


def get_dataset_source_from_json(source_json: str, source_type: str) -> DatasetSource:
    """Parse a stored source: its JSON text and its ``source_type``.

    Args:
        source_json: The JSON text of the source (``DatasetSource.to_json()``).
        source_type: The source type, e.g. ``"local"``, ``"s3"``, ``"http"``, ``"code"``.

    Returns:
        The parsed DatasetSource.

    Raises:
        MlflowException: If no registered source has that type.
    """
    for source in reversed(_sources):
        if source._get_source_type() == source_type:
            return source.from_json(source_json)
    raise MlflowException(
        f"Could not parse dataset source from JSON due to unrecognized source type: {source_type}.",
        RESOURCE_DOES_NOT_EXIST,
    )
