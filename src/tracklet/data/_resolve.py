"""The ``source=`` argument of the dataset constructors, resolved as MLflow resolves it."""

from __future__ import annotations

from typing import Any

from tracklet.data.dataset_source import DatasetSource


def resolve_source(source: Any) -> DatasetSource:
    """A DatasetSource as is; a path or URI via the registry; None as the calling code."""
    if source is None:
        from tracklet.data.code_dataset_source import code_source_for_caller

        return code_source_for_caller()
    if isinstance(source, DatasetSource):
        return source
    from tracklet.data.dataset_source_registry import resolve_dataset_source

    return resolve_dataset_source(source)
