"""``PandasDataset`` and ``from_pandas``: a DataFrame as a tracked dataset."""

from __future__ import annotations

import functools
import logging
from typing import Any

from tracklet.data._resolve import resolve_source
from tracklet.data.dataset_source import DatasetSource
from tracklet.data.digest_utils import compute_pandas_digest
from tracklet.data.tabular_dataset import TabularDataset
from tracklet.types import Schema

_logger = logging.getLogger(__name__)


class PandasDataset(TabularDataset):
    """A pandas DataFrame with optional target and prediction columns."""

    _TABLE_DESCRIPTION = "pandas DataFrame"

    def __init__(
        self,
        df: Any,
        source: DatasetSource,
        targets: str | None = None,
        name: str | None = None,
        digest: str | None = None,
        predictions: str | None = None,
    ) -> None:
        self._df = df
        super().__init__(df.columns, source, targets, name, digest, predictions)

    def _compute_digest(self) -> str:
        return compute_pandas_digest(self._df)

    @property
    def df(self) -> Any:
        """The underlying pandas DataFrame."""
        return self._df

    @property
    def profile(self) -> Any | None:
        """``{"num_rows": ..., "num_elements": ...}``."""
        return {"num_rows": len(self._df), "num_elements": int(self._df.size)}

    @functools.cached_property
    def schema(self) -> Schema | None:
        """The columns' names and MLflow types; None if a column has no MLflow type."""
        from tracklet.types.utils import infer_schema

        try:
            return infer_schema(self._df)
        except Exception as e:
            _logger.debug("Failed to infer schema for Pandas dataset. Exception: %s", e)
            return None


def from_pandas(
    df: Any,
    source: str | DatasetSource | None = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    predictions: str | None = None,
) -> PandasDataset:
    """A tracked dataset from a pandas DataFrame, as ``mlflow.data.from_pandas``.

    Args:
        df: A pandas DataFrame.
        source: Where the data came from: a DatasetSource, or a path or URI (``"data/x.csv"``,
            ``"s3://bucket/x.csv"``, ``"https://..."``). None records the calling code.
        targets: The name of the target column, which must be in ``df``.
        name: The dataset's name; ``"dataset"`` if None.
        digest: The dataset's digest; computed from the data (as MLflow does) if None.
        predictions: The name of the predictions column, which must be in ``df``.

    Returns:
        A PandasDataset to pass to ``log_input``.

    Raises:
        MlflowException: If ``targets`` or ``predictions`` is not a column of ``df``, or
            ``source`` is a string no dataset source can resolve.
    """
    return PandasDataset(
        df=df,
        source=resolve_source(source),
        targets=targets,
        name=name,
        digest=digest,
        predictions=predictions,
    )
