"""``HuggingFaceDataset`` and ``from_huggingface``: a Hugging Face ``datasets.Dataset`` as a
tracked dataset, with MLflow's digest (of the first 10,000 rows as pandas), schema, profile and
source. The ``datasets`` library is imported only when such a dataset is built or loaded."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from tracklet.data.dataset_source import DatasetSource
from tracklet.data.digest_utils import compute_pandas_digest
from tracklet.data.huggingface_dataset_source import HuggingFaceDatasetSource
from tracklet.data.tabular_dataset import TabularDataset
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.types import Schema

_logger = logging.getLogger(__name__)
_MAX_ROWS = 10000  # for the digest and the schema, as MLflow


class HuggingFaceDataset(TabularDataset):
    """A ``datasets.Dataset`` with an optional target column."""

    _TABLE_DESCRIPTION = "Hugging Face dataset"

    def __init__(
        self,
        ds: Any,
        source: DatasetSource,
        targets: str | None = None,
        name: str | None = None,
        digest: str | None = None,
    ) -> None:
        self._ds = ds
        super().__init__(ds.column_names, source, targets, name, digest)

    def _head(self) -> Any:
        return next(self._ds.to_pandas(batch_size=_MAX_ROWS, batched=True))

    def _compute_digest(self) -> str:
        return compute_pandas_digest(self._head())

    @property
    def ds(self) -> Any:
        """The underlying ``datasets.Dataset``."""
        return self._ds

    @property
    def profile(self) -> Any | None:
        """``num_rows``, ``dataset_size`` and ``size_in_bytes``, as the library reports them."""
        return {
            "num_rows": self._ds.num_rows,
            "dataset_size": self._ds.dataset_size,
            "size_in_bytes": self._ds.size_in_bytes,
        }

    @functools.cached_property
    def schema(self) -> Schema | None:
        """The MLflow schema of the first 10,000 rows as pandas; None if it has no MLflow type."""
        from tracklet.types.utils import infer_schema

        try:
            return infer_schema(self._head())
        except Exception as e:
            _logger.warning("Failed to infer schema for Hugging Face dataset. Exception: %s", e)
            return None


def from_huggingface(
    ds: Any,
    path: str | None = None,
    targets: str | None = None,
    data_dir: str | None = None,
    data_files: str | Sequence[str] | Mapping[str, str | Sequence[str]] | None = None,
    revision: Any = None,
    name: str | None = None,
    digest: str | None = None,
    trust_remote_code: bool | None = None,
    source: str | DatasetSource | None = None,
) -> HuggingFaceDataset:
    """A tracked dataset from a Hugging Face ``datasets.Dataset``, as
    ``mlflow.data.from_huggingface``.

    Args:
        ds: A ``datasets.Dataset`` (not a ``DatasetDict``).
        path: The hub path or local path ``load_dataset`` reloads it from.
        targets: The name of the target column, which must be in ``ds``.
        data_dir: ``load_dataset``'s ``data_dir``.
        data_files: ``load_dataset``'s ``data_files``.
        revision: ``load_dataset``'s ``revision``.
        name: The dataset's name; ``"dataset"`` if None.
        digest: The dataset's digest; MLflow's (of the first 10,000 rows) if None.
        trust_remote_code: ``load_dataset``'s ``trust_remote_code``.
        source: Any other source (a DatasetSource, a path or URI); wins over ``path``.

    Returns:
        A HuggingFaceDataset to pass to ``log_input``; its source is the calling code when
        neither ``path`` nor ``source`` is given.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE if ``ds`` is not a ``datasets.Dataset`` or
            ``targets`` is not one of its columns.
    """
    import datasets  # type: ignore[import-untyped,import-not-found,unused-ignore]

    from tracklet.data._resolve import resolve_source

    if not isinstance(ds, datasets.Dataset):
        raise MlflowException(
            "The specified Hugging Face dataset must be an instance of `datasets.Dataset`."
            f" Instead, found an instance of: {type(ds)}",
            INVALID_PARAMETER_VALUE,
        )
    if source is not None and path is not None:
        _logger.warning(
            "Both 'source' and 'path' are provided.'source' will take precedence, and 'path' "
            "will be ignored."
        )
    resolved: DatasetSource
    if source is not None or path is None:
        resolved = resolve_source(source)
    else:
        resolved = HuggingFaceDatasetSource(
            path=path,
            config_name=ds.config_name,
            data_dir=data_dir,
            data_files=data_files,
            split=ds.split,
            revision=revision,
            trust_remote_code=trust_remote_code,
        )
    return HuggingFaceDataset(ds=ds, source=resolved, targets=targets, name=name, digest=digest)
