"""Packing runs: one row per ended run holding its params, tags and latest metrics.

A full scan must build a run in about 10 µs; reading its ~15 part rows alone costs three
times that. A run that has ended rarely changes, so ending it writes its parts as one
``run_packs`` row (``run_pack_codec``), which search pages read instead of the parts.

Packs are never stale: triggers (``schema.pack_trigger_ddl``) delete a run's pack in the
transaction of any write to its params, tags or latest metrics, so a run changed after it ended
is read from its parts again until it next ends. On PostgreSQL, where writers run concurrently,
the packer holds an exclusive advisory lock on each run's lock bucket (the triggers take it
shared) from before it reads the parts until it commits: a write that has not committed by then
deletes the new pack when it does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tracklet.store.sql import run_pack_codec
from tracklet.store.sql.compiled import Compiled, Db, bp, insert_for, literal, stmt
from tracklet.store.sql.run_parts import LATEST, PARAMS, TAGS, gather, ids_param, rows_by_position
from tracklet.store.sql.schema import PACK_LOCK_BUCKETS, PACK_LOCK_SPACE, run_packs


def _upsert(dialect_name: str) -> Any:
    insert = insert_for(dialect_name)(run_packs).values(run_uuid=bp("run_uuid"), pack=bp("pack"))
    return insert.on_conflict_do_update(
        index_elements=[run_packs.c.run_uuid], set_={"pack": insert.excluded.pack}
    )


_UPSERT = Compiled(_upsert)


# PostgreSQL: the exclusive side of the triggers' shared locks, on the runs' buckets in order
# (so two packers cannot deadlock).
def _lock_buckets() -> Any:
    ids = sa.func.unnest(bp("ids", postgresql.ARRAY(sa.String))).table_valued("id").render_derived()
    bucket = sa.func.hashtext(ids.c.id).op("&")(literal(str(PACK_LOCK_BUCKETS - 1)))
    buckets = sa.select(bucket.label("bucket")).distinct().subquery()
    return sa.select(
        sa.func.pg_advisory_xact_lock(literal(str(PACK_LOCK_SPACE)), buckets.c.bucket)
    ).order_by(buckets.c.bucket)


_LOCK = stmt(_lock_buckets)


def pack_runs(db: Db, run_ids: Sequence[str]) -> None:
    """Write (or rewrite) the packs of these runs, in the caller's write transaction."""
    ids = sorted(set(run_ids))
    if not ids:
        return
    if db.dialect_name == "postgresql":
        db.execute(_LOCK, {"ids": ids}).fetchall()
    bound = ids_param(db, ids)
    params_at = gather(rows_by_position(db, PARAMS, bound, ids), len(ids))
    tags_at = gather(rows_by_position(db, TAGS, bound, ids), len(ids))
    metrics_at: list[list[Any]] = [[] for _ in ids]
    for at, *row in rows_by_position(db, LATEST, bound, ids):
        metrics_at[at].append(row)
    db.executemany(
        _UPSERT,
        [
            {
                "run_uuid": run_id,
                "pack": run_pack_codec.encode(run_params or {}, run_tags or {}, run_metrics),
            }
            for run_id, run_params, run_tags, run_metrics in zip(
                ids, params_at, tags_at, metrics_at, strict=True
            )
        ],
    )
