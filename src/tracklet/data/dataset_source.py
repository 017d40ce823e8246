"""``DatasetSource``: where a dataset came from (a path, a URL, the code that built it)."""

from __future__ import annotations

import json
from typing import Any


class DatasetSource:
    """The source of a dataset, serialized on the run as ``source_type`` plus a JSON text.

    Subclasses implement ``_get_source_type``, ``to_dict``/``from_dict`` and, when a raw value
    such as ``"s3://bucket/key"`` may resolve to them, ``_can_resolve``/``_resolve``.
    """

    @staticmethod
    def _get_source_type() -> str:
        """The source type recorded on the run, e.g. ``"local"``, ``"s3"``, ``"code"``."""
        raise NotImplementedError

    def load(self) -> Any:
        """Load what the source refers to (e.g. download files and return their local path)."""
        raise NotImplementedError

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        """Whether ``raw_source`` (e.g. a URI string) can be turned into this source type."""
        return False

    @classmethod
    def _resolve(cls, raw_source: Any) -> DatasetSource:
        """This source type built from ``raw_source``."""
        raise NotImplementedError

    def to_dict(self) -> dict[Any, Any]:
        """A JSON-compatible dictionary describing the source."""
        raise NotImplementedError

    def to_json(self) -> str:
        """The source as the JSON text stored on the run.

        Returns:
            ``json.dumps(self.to_dict())``.
        """
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, source_dict: dict[Any, Any]) -> DatasetSource:
        """The source described by ``source_dict`` (the inverse of ``to_dict``)."""
        raise NotImplementedError

    @classmethod
    def from_json(cls, source_json: str) -> DatasetSource:
        """The source described by ``source_json`` (the inverse of ``to_json``).

        Args:
            source_json: A JSON text as produced by ``to_json``.

        Returns:
            An instance of this source type.
        """
        return cls.from_dict(json.loads(source_json))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_dict()!r})"
