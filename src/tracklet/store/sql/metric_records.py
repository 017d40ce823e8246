"""A metric's history as the packed records it is stored in (``metric_codec``: 24-byte
``(step, timestamp, value)`` records), joined into one ``bytes`` in storage order: the chunks
in order, then the tail. Read-only; the web UI's charts (``server/ui/series_arrays.py``) view
the bytes as numpy columns and put them in MLflow's order themselves.

The blobs are ``metrics.read_blobs``: one statement, so one snapshot, as
``get_metric_history`` reads them.
"""

from __future__ import annotations

from tracklet.store.sql import metrics as metric_queries
from tracklet.store.sql import runs as run_queries
from tracklet.store.sql.store_base import SqlStoreBase


def read_records(store: SqlStoreBase, run_id: str, key: str) -> bytes:
    """The (run, key) history's records in storage order; ``b""`` for a run without that key,
    RESOURCE_DOES_NOT_EXIST for no run (as ``get_metric_history``). Pending wide batches are
    folded first (the store's reader)."""
    with store._reader() as db:
        blobs = metric_queries.read_blobs(db, run_id, key)
        if not blobs and run_queries.stage_of(db, run_id) is None:
            raise run_queries.not_found(run_id)
    return b"".join(blobs)
