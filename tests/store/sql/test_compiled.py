"""Statements built at call time: compiled once per shape, each run with its own values."""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa

from tracklet.store.sql.compiled import _CORE_CACHE, Db

_table = sa.table("t", sa.column("id"), sa.column("name"))


def _db() -> Db:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (id INTEGER, name TEXT)")
    connection.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"n{i}") for i in range(10)])
    return Db(connection, "sqlite")


def _ids(ids: list[int], below: int, limit: int) -> sa.Select[tuple[int]]:
    return (
        sa.select(_table.c.id)
        .where(_table.c.id.in_(ids), _table.c.id < below)
        .order_by(_table.c.id)
        .limit(limit)
    )


def test_one_shape_many_values() -> None:
    db = _db()
    _CORE_CACHE.clear()
    assert db.execute_core(_ids([1, 2, 3, 8], 8, 10)).fetchall() == [(1,), (2,), (3,)]
    shapes = len(_CORE_CACHE)
    # Same shape: another IN list length, other bounds and limit.
    assert db.execute_core(_ids([9, 5], 10, 1)).fetchall() == [(5,)]
    assert db.execute_core(_ids([7], 8, 5)).fetchall() == [(7,)]
    assert len(_CORE_CACHE) == shapes
    # An empty IN list (SQLAlchemy keys it as a shape of its own), then another statement.
    assert db.execute_core(_ids([], 10, 5)).fetchall() == []
    assert db.execute_core(_ids([4], 10, 5)).fetchall() == [(4,)]
    names = sa.select(_table.c.name).where(_table.c.id == 4)
    assert db.execute_core(names).fetchall() == [("n4",)]
    assert db.execute_core(sa.select(_table.c.name).where(_table.c.id == 6)).fetchall() == [("n6",)]
