"""Bulk writes shared by import and export: INSERT ... ON CONFLICT DO NOTHING statements,
compiled once per (table, columns, dialect), run with ``executemany`` on a DB-API cursor.

Doing nothing on a conflict is what makes a second import (or the rest of an interrupted one)
add nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import TableClause


@cache
def _dialect(name: str) -> sa.engine.Dialect:
    if name == "sqlite":
        return sqlite.dialect(paramstyle="named")
    from sqlalchemy.dialects.postgresql import psycopg

    return psycopg.dialect()  # type: ignore[no-untyped-call]


_texts: dict[tuple[int, tuple[str, ...], str], str] = {}


def insert_ignore_text(table: TableClause | sa.Table, columns: Sequence[str], dialect: str) -> str:
    """``INSERT INTO table (columns) VALUES (:col, ...) ON CONFLICT DO NOTHING`` for the dialect,
    with named parameters."""
    key = (id(table), tuple(columns), dialect)
    text = _texts.get(key)
    if text is None:
        insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(table)
        statement = insert.values({c: sa.bindparam(c) for c in columns}).on_conflict_do_nothing()
        text = _texts[key] = str(statement.compile(dialect=_dialect(dialect)))
    return text


def insert_ignore(
    cursor: Any, dialect: str, table: TableClause | sa.Table, rows: Iterable[Mapping[str, Any]]
) -> int:
    """Insert ``rows`` (dicts with the same keys), skipping any that conflict; returns how many
    were given."""
    rows = list(rows)
    if not rows:
        return 0
    cursor.executemany(insert_ignore_text(table, list(rows[0]), dialect), rows)
    return len(rows)


def compile_text(statement: sa.sql.ClauseElement, dialect: str) -> tuple[str, dict[str, Any]]:
    """A select's SQL text and parameters for a DB-API cursor (IN lists rendered)."""
    compiled = statement.compile(
        dialect=_dialect(dialect), compile_kwargs={"render_postcompile": True}
    )
    return str(compiled), dict(compiled.params)


def creation_seqs(cursor: Any, dialect: str, table: str, count: int) -> list[int]:
    """``count`` new ``creation_seq`` numbers of ``runs`` or ``logged_models`` (creation order,
    the tie-breaker of their timestamps), inside the writing transaction: PostgreSQL's sequence,
    or MAX + 1 under SQLite's write lock."""
    if count == 0:
        return []
    if dialect == "postgresql":
        cursor.execute(
            f"SELECT nextval('{table}_creation_seq') FROM generate_series(1, %(n)s)", {"n": count}
        )
        return [row[0] for row in cursor.fetchall()]
    cursor.execute(f"SELECT COALESCE(MAX(creation_seq), 0) FROM {table}")
    start = int(cursor.fetchone()[0]) + 1
    return list(range(start, start + count))
