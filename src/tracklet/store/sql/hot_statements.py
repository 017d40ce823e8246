"""The statements on tracklet's hot paths, built with SQLAlchemy Core and compiled once.

Executing a Core statement through a SQLAlchemy Connection costs tens of microseconds; a
synchronous ``log_metric`` has a budget of about that much beyond its one commit. These
statements are compiled to SQL text once per dialect and run on the writer's DB-API cursor with
a dict of named parameters. They stay Core (one schema, both dialects) everywhere else.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from tracklet.entities import LifecycleStage
from tracklet.store.sql.schema import latest_metrics, metric_chunks, params, runs, tags

# A literal, not a bound parameter: the compiled text then needs no extra value.
_RUN_IS_ACTIVE = runs.c.lifecycle_stage == sa.literal_column(f"'{LifecycleStage.ACTIVE}'")

_ZERO = sa.literal_column("0")

# A tail longer than this many points is moved into metric_chunks (a ~3 KB row at most).
TAIL_FLUSH_POINTS = 128


def _insert_for(dialect_name: str) -> Any:
    return sqlite.insert if dialect_name == "sqlite" else postgresql.insert


def _compile(statement: ClauseElement, dialect: Dialect) -> str:
    if dialect.name == "sqlite":
        # Named parameters (":name"), so one dict of values serves both dialects.
        return str(statement.compile(dialect=sqlite.dialect(paramstyle="named")))
    return str(statement.compile(dialect=dialect))


def _append_point_set_clause(excluded: Any) -> dict[str, Any]:
    """Append the new points to the tail, and take the new latest value if it is newer."""
    current = latest_metrics.c
    newer = sa.or_(
        excluded.step > current.step,
        sa.and_(excluded.step == current.step, excluded.timestamp > current.timestamp),
        sa.and_(
            excluded.step == current.step,
            excluded.timestamp == current.timestamp,
            sa.or_(
                excluded.value > current.value,
                sa.and_(current.is_nan, sa.not_(excluded.is_nan)),
            ),
        ),
    )
    return {
        "value": sa.case((newer, excluded.value), else_=current.value),
        "is_nan": sa.case((newer, excluded.is_nan), else_=current.is_nan),
        "timestamp": sa.case((newer, excluded.timestamp), else_=current.timestamp),
        "step": sa.case((newer, excluded.step), else_=current.step),
        # SQLite's || yields TEXT even for blobs; the cast keeps the bytes a BLOB.
        "tail": sa.cast(current.tail.op("||")(excluded.tail), sa.LargeBinary),
        "tail_n": current.tail_n + excluded.tail_n,
    }


class HotStatements:
    """SQL text for one dialect. Parameters are documented on each attribute."""

    def __init__(self, dialect: Dialect) -> None:
        insert = _insert_for(dialect.name)
        lm = latest_metrics.c
        bp = sa.bindparam

        # append_point_guarded(run_uuid, key, value, is_nan, timestamp, step, points, count)
        #   -> RETURNING tail_n; no row when the run is missing or not active.
        guarded = insert(latest_metrics).from_select(
            ["run_uuid", "key", "value", "is_nan", "timestamp", "step", "tail_n", "tail"],
            sa.select(
                runs.c.run_uuid,
                bp("key", type_=sa.String),
                bp("value", type_=sa.Float),
                bp("is_nan", type_=sa.Boolean),
                bp("timestamp", type_=sa.BigInteger),
                bp("step", type_=sa.BigInteger),
                bp("count", type_=sa.Integer),
                bp("points", type_=sa.LargeBinary),
            ).where(
                runs.c.run_uuid == bp("run_uuid"),
                _RUN_IS_ACTIVE,
            ),
        )
        guarded = guarded.on_conflict_do_update(
            index_elements=[lm.run_uuid, lm.key],
            set_=_append_point_set_clause(guarded.excluded),
        ).returning(lm.tail_n)
        self.append_point_guarded = _compile(guarded, dialect)

        # append_points(run_uuid, key, value, is_nan, timestamp, step, points, count): the same
        # without the run check, for use inside a transaction that has checked the run already.
        plain = insert(latest_metrics).values(
            run_uuid=bp("run_uuid"),
            key=bp("key"),
            value=bp("value"),
            is_nan=bp("is_nan"),
            timestamp=bp("timestamp"),
            step=bp("step"),
            tail_n=bp("count"),
            tail=bp("points"),
        )
        plain = plain.on_conflict_do_update(
            index_elements=[lm.run_uuid, lm.key], set_=_append_point_set_clause(plain.excluded)
        )
        self.append_points = _compile(plain, dialect)

        # insert_chunk(run_uuid, key, n, data)
        self.insert_chunk = _compile(
            metric_chunks.insert().values(
                run_uuid=bp("run_uuid"), key=bp("key"), n=bp("n"), data=bp("data")
            ),
            dialect,
        )

        # move_tail(run_uuid, key) then clear_tail(run_uuid, key, empty)
        self.move_tail = _compile(
            metric_chunks.insert().from_select(
                ["run_uuid", "key", "n", "data"],
                sa.select(lm.run_uuid, lm.key, lm.tail_n, lm.tail).where(
                    lm.run_uuid == bp("run_uuid"), lm.key == bp("key"), lm.tail_n > _ZERO
                ),
            ),
            dialect,
        )
        self.clear_tail = _compile(
            latest_metrics.update()
            .where(lm.run_uuid == bp("run_uuid"), lm.key == bp("key"))
            .values(tail=bp("empty", type_=sa.LargeBinary), tail_n=_ZERO),
            dialect,
        )
        # move_full_tails(run_uuid, threshold) then clear_full_tails(run_uuid, threshold, empty)
        self.move_full_tails = _compile(
            metric_chunks.insert().from_select(
                ["run_uuid", "key", "n", "data"],
                sa.select(lm.run_uuid, lm.key, lm.tail_n, lm.tail).where(
                    lm.run_uuid == bp("run_uuid"), lm.tail_n >= bp("threshold")
                ),
            ),
            dialect,
        )
        self.clear_full_tails = _compile(
            latest_metrics.update()
            .where(lm.run_uuid == bp("run_uuid"), lm.tail_n >= bp("threshold"))
            .values(tail=bp("empty", type_=sa.LargeBinary), tail_n=_ZERO),
            dialect,
        )

        # read_points(run_uuid, key) -> data blobs: chunks in order, then the tail. One
        # statement, so one snapshot: a tail moved into a chunk meanwhile is seen exactly once.
        chunk_part = sa.select(
            sa.literal_column("0").label("part"),
            metric_chunks.c.chunk_id.label("ord"),
            metric_chunks.c.data.label("data"),
        ).where(metric_chunks.c.run_uuid == bp("run_uuid"), metric_chunks.c.key == bp("key"))
        tail_part = sa.select(
            sa.literal_column("1").label("part"),
            sa.literal_column("0").label("ord"),
            lm.tail.label("data"),
        ).where(lm.run_uuid == bp("run_uuid"), lm.key == bp("key"))
        union = sa.union_all(chunk_part, tail_part).subquery()
        self.read_points = _compile(
            sa.select(union.c.data).order_by(union.c.part, union.c.ord), dialect
        )

        # insert_param_guarded(run_uuid, key, value): rowcount 0 if the run is not active or
        # the param exists already (the caller then finds out which).
        self.insert_param_guarded = _compile(
            insert(params)
            .from_select(
                ["run_uuid", "key", "value"],
                sa.select(
                    runs.c.run_uuid, bp("key", type_=sa.String), bp("value", type_=sa.String)
                ).where(
                    runs.c.run_uuid == bp("run_uuid"),
                    _RUN_IS_ACTIVE,
                ),
            )
            .on_conflict_do_nothing(index_elements=[params.c.run_uuid, params.c.key]),
            dialect,
        )

        # upsert_tag_guarded(run_uuid, key, value): rowcount 0 if the run is not active.
        upsert_tag = insert(tags).from_select(
            ["run_uuid", "key", "value"],
            sa.select(
                runs.c.run_uuid, bp("key", type_=sa.String), bp("value", type_=sa.String)
            ).where(
                runs.c.run_uuid == bp("run_uuid"),
                _RUN_IS_ACTIVE,
            ),
        )
        self.upsert_tag_guarded = _compile(
            upsert_tag.on_conflict_do_update(
                index_elements=[tags.c.run_uuid, tags.c.key],
                set_={"value": upsert_tag.excluded.value},
            ),
            dialect,
        )
