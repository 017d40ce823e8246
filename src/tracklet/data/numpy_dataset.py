"""``NumpyDataset`` and ``from_numpy``: numpy arrays (or dicts of arrays) as a tracked dataset."""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

from tracklet.data._resolve import resolve_source
from tracklet.data.dataset import Dataset
from tracklet.data.dataset_source import DatasetSource
from tracklet.data.digest_utils import compute_numpy_digest
from tracklet.data.schema import TensorDatasetSchema

_logger = logging.getLogger(__name__)


def _attribute(data: Any, attr: str) -> Any:
    if isinstance(data, dict):
        return {key: getattr(array, attr) for key, array in data.items()}
    return getattr(data, attr)


class NumpyDataset(Dataset):
    """Numpy features and optional targets: each an array or a dict of name -> array."""

    def __init__(
        self,
        features: Any,
        source: DatasetSource,
        targets: Any = None,
        name: str | None = None,
        digest: str | None = None,
    ) -> None:
        self._features = features
        self._targets = targets
        super().__init__(source=source, name=name, digest=digest)

    def _compute_digest(self) -> str:
        return compute_numpy_digest(self._features, self._targets)

    @property
    def features(self) -> Any:
        """The features: an array or a dict of name -> array."""
        return self._features

    @property
    def targets(self) -> Any:
        """The targets, or None."""
        return self._targets

    @property
    def profile(self) -> Any | None:
        """Shape, size and nbytes of the features (and of the targets, if any)."""
        profile = {
            "features_shape": _attribute(self._features, "shape"),
            "features_size": _attribute(self._features, "size"),
            "features_nbytes": _attribute(self._features, "nbytes"),
        }
        if self._targets is not None:
            profile["targets_shape"] = _attribute(self._targets, "shape")
            profile["targets_size"] = _attribute(self._targets, "size")
            profile["targets_nbytes"] = _attribute(self._targets, "nbytes")
        return profile

    @functools.cached_property
    def schema(self) -> TensorDatasetSchema | None:
        """TensorSpec schemas of the features and targets; None if they cannot be inferred."""
        from tracklet.types.utils import infer_schema

        try:
            targets = infer_schema(self._targets) if self._targets is not None else None
            return TensorDatasetSchema(infer_schema(self._features), targets)
        except Exception as e:
            _logger.warning("Failed to infer schema for NumPy dataset. Exception: %s", e)
            return None

    def to_dict(self) -> dict[str, str | None]:
        """MLflow's config dictionary: name, digest, source, source_type, schema, profile."""
        schema = self.schema
        config = super().to_dict()
        config["schema"] = json.dumps(schema.to_dict()) if schema else None
        config["profile"] = json.dumps(self.profile)
        return config


def from_numpy(
    features: Any,
    source: str | DatasetSource | None = None,
    targets: Any = None,
    name: str | None = None,
    digest: str | None = None,
) -> NumpyDataset:
    """A tracked dataset from numpy arrays, as ``mlflow.data.from_numpy``.

    Args:
        features: A numpy array, or a dict of name -> numpy array.
        source: Where the data came from: a DatasetSource, or a path or URI. None records
            the calling code.
        targets: Optional targets: a numpy array, or a dict of name -> numpy array.
        name: The dataset's name; ``"dataset"`` if None.
        digest: The dataset's digest; computed from the data (as MLflow does) if None.

    Returns:
        A NumpyDataset to pass to ``log_input``.
    """
    return NumpyDataset(
        features=features, source=resolve_source(source), targets=targets, name=name, digest=digest
    )
