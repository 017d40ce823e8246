"""Metric points, and MetricHistory: a metric's points held as columns."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

from tracklet.entities._base import _Entity, fast_constructor


@dataclass(frozen=True, slots=True)
class Metric(_Entity):
    """One metric point. ``timestamp`` is in milliseconds; ``step`` any int64."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    dataset_name: str | None = None
    dataset_digest: str | None = None
    model_id: str | None = None
    run_id: str | None = None

    def __eq__(self, other: object) -> bool:
        # NaN points compare equal to themselves, so histories holding NaN compare as data.
        if not isinstance(other, Metric):
            return NotImplemented
        return (
            self.key == other.key
            and (self.value == other.value or (math.isnan(self.value) and math.isnan(other.value)))
            and self.timestamp == other.timestamp
            and self.step == other.step
            and self.dataset_name == other.dataset_name
            and self.dataset_digest == other.dataset_digest
            and self.model_id == other.model_id
            and self.run_id == other.run_id
        )

    def __hash__(self) -> int:
        return hash((self.key, self.timestamp, self.step, self.run_id))


# Metric(...) without the generated frozen __init__ (about 2x faster), for bulk reads: every
# field, positionally.
new_metric = fast_constructor(Metric)


def _make_metric(key: str, value: float, timestamp: int, step: int, run_id: str | None) -> Metric:
    return new_metric(key, value, timestamp, step, None, None, None, run_id)


class MetricHistory(Sequence[Metric]):
    """Every point of one metric, as columns (``steps``, ``timestamps``, ``values``).

    It is a read-only sequence of :class:`Metric`, so ``for m in history`` and ``history[-1]``
    work as on MLflow's list; the Metric objects are built on access, which keeps reading a long
    series cheap. ``list(history)`` gives a plain list.
    """

    __slots__ = ("_run_id", "key", "steps", "timestamps", "values")

    def __init__(
        self,
        key: str,
        steps: Sequence[int],
        timestamps: Sequence[int],
        values: Sequence[float],
        run_id: str | None = None,
    ) -> None:
        if not len(steps) == len(timestamps) == len(values):
            raise ValueError("steps, timestamps and values must have the same length")
        self.key = key
        self.steps = steps
        self.timestamps = timestamps
        self.values = values
        self._run_id = run_id

    def __len__(self) -> int:
        return len(self.steps)

    @overload
    def __getitem__(self, index: int) -> Metric: ...

    @overload
    def __getitem__(self, index: slice) -> MetricHistory: ...

    def __getitem__(self, index: int | slice) -> Metric | MetricHistory:
        if isinstance(index, slice):
            return MetricHistory(
                self.key,
                self.steps[index],
                self.timestamps[index],
                self.values[index],
                self._run_id,
            )
        return _make_metric(
            self.key, self.values[index], self.timestamps[index], self.steps[index], self._run_id
        )

    def __iter__(self) -> Iterator[Metric]:
        key, run_id = self.key, self._run_id
        for value, timestamp, step in zip(self.values, self.timestamps, self.steps, strict=True):
            yield _make_metric(key, value, timestamp, step, run_id)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MetricHistory | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(repr(m) for m in self[:3])
        more = f", ... ({len(self)} points)" if len(self) > 3 else ""
        return f"MetricHistory([{shown}{more}])"

    def to_dict(self) -> dict[str, Any]:
        """Columns as plain lists, e.g. for ``pandas.DataFrame(history.to_dict())``."""
        return {
            "step": list(self.steps),
            "timestamp": list(self.timestamps),
            "value": list(self.values),
        }


class LatestMetrics(Sequence[Metric]):
    """A run's latest metric points (``run.data.metric_objs``), built on first access.

    A search page of thousands of runs is mostly read through ``run.data.metrics``; building
    every run's Metric objects up front would cost more than reading the runs. Compares equal
    to a tuple or list of the same points.
    """

    __slots__ = ("_built", "_keys", "_points", "_values")

    def __init__(self, keys: Sequence[str], values: Sequence[float], points: str) -> None:
        """``points``: each metric's timestamp and step, as text: "t0,s0,t1,s1,..."."""
        self._keys = keys
        self._values = values
        self._points = points
        self._built: tuple[Metric, ...] | None = None

    def _metrics(self) -> tuple[Metric, ...]:
        built = self._built
        if built is None:
            points = [int(p) for p in self._points.split(",")] if self._points else []
            built = self._built = tuple(
                new_metric(key, value, points[2 * i], points[2 * i + 1], None, None, None, None)
                for i, (key, value) in enumerate(zip(self._keys, self._values, strict=True))
            )
        return built

    def __len__(self) -> int:
        return len(self._keys)

    @overload
    def __getitem__(self, index: int) -> Metric: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Metric, ...]: ...

    def __getitem__(self, index: int | slice) -> Metric | tuple[Metric, ...]:
        return self._metrics()[index]

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._metrics())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LatestMetrics | list | tuple):
            return self._metrics() == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._metrics())
