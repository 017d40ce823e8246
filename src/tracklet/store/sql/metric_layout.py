"""How metric points are laid out in rows: the sizes that decide between a key's tail and a chunk
of its own, and the flat shape a batch's points travel in. Shared by the SQLite and PostgreSQL
write paths (``metrics``, ``pg_points``, ``metric_batches``) without either importing the other."""

from __future__ import annotations

# A tail longer than this many points is moved into metric_chunks. Every append rewrites the
# row, so short tails keep synchronous and wide-batch writes cheap (768 bytes at most).
TAIL_FLUSH_POINTS = 32
# A batch's points for one key go to the tail when there are few of them (one upsert, no new
# row), and into a chunk row of their own otherwise.
SMALL_GROUP = 32
# Very long series are split into chunks of at most this many points (about 1.5 MB each).
MAX_CHUNK_POINTS = 65536
# How many (run, key) tails a process keeps count of before forgetting the oldest counts.
MAX_TRACKED_TAILS = 100_000

# A batch's points as parallel columns: keys, steps, timestamps, values.
FlatPoints = tuple[list[str], list[int], list[int], list[float]]

__all__ = [
    "MAX_CHUNK_POINTS",
    "MAX_TRACKED_TAILS",
    "SMALL_GROUP",
    "TAIL_FLUSH_POINTS",
    "FlatPoints",
]
