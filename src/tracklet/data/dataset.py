"""``Dataset``: the base of tracklet's dataset objects (``from_pandas``, ``from_numpy``)."""

from __future__ import annotations

import json
from typing import Any

from tracklet.data.dataset_source import DatasetSource
from tracklet.entities import Dataset as DatasetEntity


class Dataset:
    """A dataset for MLflow Tracking: name, digest, source, schema and profile.

    Subclasses set the attributes ``_compute_digest`` needs before calling ``__init__``.
    """

    def __init__(
        self, source: DatasetSource, name: str | None = None, digest: str | None = None
    ) -> None:
        self._name = name
        self._source = source
        self._digest = digest or self._compute_digest()

    def _compute_digest(self) -> str:
        """The digest used when none is given (8 hex characters for tracklet's datasets)."""
        raise NotImplementedError

    @property
    def name(self) -> str:
        """The dataset's name; ``"dataset"`` when none was given, as in MLflow."""
        return self._name if self._name is not None else "dataset"

    @property
    def digest(self) -> str:
        """A fingerprint of the data, e.g. ``"498c7496"``: equal data, equal digest."""
        return self._digest

    @property
    def source(self) -> DatasetSource:
        """Where the dataset came from."""
        return self._source

    @property
    def profile(self) -> Any | None:
        """Summary statistics, or None."""
        return None

    @property
    def schema(self) -> Any | None:
        """The dataset's schema, or None."""
        return None

    def _get_source_type(self) -> str:
        return self.source._get_source_type()

    def to_dict(self) -> dict[str, str | None]:
        """The dataset as MLflow's config dictionary.

        Returns:
            ``name``, ``digest``, ``source`` (JSON text) and ``source_type``; subclasses add
            ``schema`` and ``profile`` (JSON texts).
        """
        return {
            "name": self.name,
            "digest": self.digest,
            "source": self.source.to_json(),
            "source_type": self.source._get_source_type(),
        }

    def to_json(self) -> str:
        """``json.dumps(self.to_dict())``."""
        return json.dumps(self.to_dict())

    def _to_mlflow_entity(self) -> DatasetEntity:
        """The ``tracklet.entities.Dataset`` that ``log_input`` records on the run."""
        d = self.to_dict()
        return DatasetEntity(
            name=str(d["name"]),
            digest=str(d["digest"]),
            source_type=str(d["source_type"]),
            source=str(d["source"]),
            schema=d.get("schema"),
            profile=d.get("profile"),
        )
