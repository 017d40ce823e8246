"""Runs as columns: what ``tracklet.search_runs`` turns into a DataFrame, without Run objects.

A store fills the columns straight from its rows (``store.sql``) or from a page of runs
(``RunColumns.from_runs``, the REST store); pages are joined with ``RunColumns.concat``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tracklet.entities import Run

# MLflow's leading DataFrame columns, RunInfo attributes of the same names.
INFO = ("run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time")
NAN = float("nan")


@dataclass(frozen=True, slots=True)
class RunColumns:
    """``size`` runs as columns: ``info`` holds the INFO columns; ``metrics`` (NaN where a run
    lacks the metric), ``params`` and ``tags`` (None where missing) map each key to its column,
    keys in order of first appearance over the runs in order and each run's keys in key order
    (MLflow's column order). ``token`` is the next page's, as on a PagedList."""

    size: int
    info: dict[str, list[Any]]
    metrics: dict[str, list[float]]
    params: dict[str, list[str | None]]
    tags: dict[str, list[str | None]]
    token: str | None = None

    def __len__(self) -> int:
        return self.size

    @classmethod
    def from_runs(cls, runs: Sequence[Run], token: str | None = None) -> RunColumns:
        """The columns of these runs. Each key's column is made, already filled with the
        missing value, when the key is first seen; each value then lands at its row."""
        n = len(runs)
        info = {name: [getattr(run.info, name) for run in runs] for name in INFO}
        parts: list[dict[str, list[Any]]] = []
        for prefix, missing in (("metrics", NAN), ("params", None), ("tags", None)):
            columns: dict[str, list[Any]] = {}
            for row, run in enumerate(runs):
                place(columns, row, getattr(run.data, prefix), n, missing)
            parts.append(columns)
        return cls(n, info, parts[0], parts[1], parts[2], token)

    @classmethod
    def concat(cls, pages: Sequence[RunColumns]) -> RunColumns:
        """One RunColumns of these pages' runs in order (keys in order of first appearance)."""
        if len(pages) == 1:
            return pages[0]
        size = sum(page.size for page in pages)
        info: dict[str, list[Any]] = {name: [] for name in INFO}
        for page in pages:
            for name in INFO:
                info[name] += page.info[name]
        parts: list[dict[str, list[Any]]] = []
        for prefix, missing in (("metrics", NAN), ("params", None), ("tags", None)):
            columns: dict[str, list[Any]] = {}
            start = 0
            for page in pages:
                for key, values in getattr(page, prefix).items():
                    column = columns.get(key)
                    if column is None:
                        column = columns[key] = [missing] * size
                    column[start : start + page.size] = values
                start += page.size
            parts.append(columns)
        return cls(size, info, parts[0], parts[1], parts[2], pages[-1].token if pages else None)

    def named(self) -> dict[str, list[Any]]:
        """Column name -> values: the INFO names, then ``metrics.<key>``, ``params.<key>``,
        ``tags.<key>``."""
        result: dict[str, list[Any]] = dict(self.info)
        for prefix in ("metrics", "params", "tags"):
            for key, values in getattr(self, prefix).items():
                result[f"{prefix}.{key}"] = values
        return result


def place(
    columns: dict[str, list[Any]], row: int, values: dict[str, Any], size: int, missing: Any
) -> None:
    """Put one run's ``{key: value}`` at ``row`` of ``columns``: a key's column is made (``size``
    values, all ``missing``) when the key is first seen, so keys keep their first appearance."""
    for key, value in values.items():
        column = columns.get(key)
        if column is None:
            column = columns[key] = [missing] * size
        column[row] = value
