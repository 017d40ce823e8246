"""A mixin that gives frozen dataclass entities MLflow's dict-like iteration."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, ClassVar


class _Entity:
    """``dict(entity)`` yields its fields and MLflow's extra properties, as MLflow's entities do."""

    __slots__ = ()
    _extra_properties: ClassVar[tuple[str, ...]] = ()

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            yield field.name, getattr(self, field.name)
        for name in self._extra_properties:
            yield name, getattr(self, name)
