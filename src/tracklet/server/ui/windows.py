"""Windows of a runs query by row offset, for the runs table's scrollbar.

Keyset pages (``page_token``) reach row 9,900 of 10,000 only through the 9,900 rows before it.
The table instead asks, right after its fast first page, for the query's total and a window by
offset; the server runs the whole query once, keeps its columns as a *snapshot* (a few, for a
few minutes, per worker) and answers every later window of it as a slice: the last rows show as
soon as they are scrolled to, and every window of one snapshot comes from the same result (no
run counted twice when runs arrive meanwhile). A snapshot is found by its id *and* its query, so
an id says nothing about experiments the caller may not read; a worker that lacks it (another
worker, expired) simply runs the query again and answers with a new id.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from tracklet.store.base import TrackingStore
from tracklet.store.run_columns import NAN, RunColumns

MAX_RUNS = 50_000
CAPACITY = 4
# Cells (runs x columns) kept at most, over all snapshots but the newest: ~100 bytes a cell.
MAX_CELLS = 3_000_000
TTL_SECONDS = 300.0

Query = tuple[tuple[str, ...], str, int, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Snapshot:
    id: str
    query: Query
    columns: RunColumns


class Snapshots:
    """The last few queries' whole results, least recently used first out."""

    def __init__(self, capacity: int = CAPACITY, ttl: float = TTL_SECONDS) -> None:
        self._capacity = capacity
        self._ttl = ttl
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[float, Snapshot]] = OrderedDict()

    def find(self, snapshot_id: str, query: Query) -> Snapshot | None:
        """The snapshot of this id if it holds this query and has not expired."""
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            item = self._items.get(snapshot_id)
            if item is None or item[1].query != query:
                return None
            self._items[snapshot_id] = (now, item[1])
            self._items.move_to_end(snapshot_id)
            return item[1]

    def latest(self, query: Query) -> Snapshot | None:
        """The newest live snapshot of this query, whatever its id."""
        with self._lock:
            self._expire(time.monotonic())
            for _, snapshot in reversed(self._items.values()):
                if snapshot.query == query:
                    return snapshot
        return None

    def add(self, query: Query, columns: RunColumns) -> Snapshot:
        snapshot = Snapshot(secrets.token_hex(8), query, columns)
        with self._lock:
            self._items[snapshot.id] = (time.monotonic(), snapshot)
            while len(self._items) > 1 and (
                len(self._items) > self._capacity
                or sum(_cells(s.columns) for _, s in self._items.values()) > MAX_CELLS
            ):
                self._items.popitem(last=False)
        return snapshot

    def _expire(self, now: float) -> None:
        for key in [k for k, (used, _) in self._items.items() if now - used > self._ttl]:
            del self._items[key]


def _cells(columns: RunColumns) -> int:
    keys = len(columns.info) + len(columns.metrics) + len(columns.params) + len(columns.tags)
    return columns.size * keys


def run_query(store: TrackingStore, query: Query) -> RunColumns:
    """Every run of the query (up to MAX_RUNS), in its order."""
    experiment_ids, filter_string, view_type, order_by = query
    pages: list[RunColumns] = []
    token: str | None = None
    total = 0
    while True:
        page = store.search_runs_columns(
            list(experiment_ids), filter_string, view_type, MAX_RUNS, list(order_by) or None, token
        )
        pages.append(page)
        total += page.size
        token = page.token
        if not token or total >= MAX_RUNS:
            break
    return RunColumns.concat(pages)


def window(columns: RunColumns, start: int, stop: int) -> RunColumns:
    """Rows ``start:stop``; the keys with no value there are left out."""
    start, stop = max(0, start), max(start, min(stop, columns.size))

    def cut(found: dict[str, list[Any]], missing: object) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for key, values in found.items():
            part = values[start:stop]
            if any(v is not missing for v in part):
                out[key] = part
        return out

    return RunColumns(
        stop - start,
        {name: values[start:stop] for name, values in columns.info.items()},
        cut(columns.metrics, NAN),  # NAN itself marks a missing metric; a logged NaN is another
        cut(columns.params, None),
        cut(columns.tags, None),
    )
