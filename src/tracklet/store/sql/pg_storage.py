"""PostgreSQL: how metric blobs are stored in their rows.

A ``metric_chunks`` row of a 100-step batch holds 2.4 kB of packed points, and PostgreSQL
compresses (pglz), and failing that moves out of line, every row over ~2 kB: a 1000-point
log-batch spent half its database CPU there (1.57 -> 0.85 ms a batch without it), and every
history read paid it back. Rows up to a page's worth stay inline and uncompressed; larger
ones are still toasted. SQLite has no such threshold.
"""

from __future__ import annotations

# The largest value PostgreSQL accepts: a row up to about one 8 kB page is never toasted.
TOAST_TUPLE_TARGET = 8160
_BLOB_TABLES = ("metric_chunks", "metric_batches")


def storage_ddl(dialect_name: str) -> list[str]:
    """The statements setting the blob tables' storage (none on SQLite)."""
    if dialect_name == "sqlite":
        return []
    return [
        f"ALTER TABLE {table} SET (toast_tuple_target = {TOAST_TUPLE_TARGET})"
        for table in _BLOB_TABLES
    ]


def reset_storage_ddl(dialect_name: str) -> list[str]:
    """The statements undoing them (a downgrade)."""
    if dialect_name == "sqlite":
        return []
    return [f"ALTER TABLE {table} RESET (toast_tuple_target)" for table in _BLOB_TABLES]
