"""creation order: runs.creation_seq and logged_models.creation_seq number rows in the order
they were created, so that search breaks start_time / creation_timestamp ties by creation (rows
created in the same millisecond); existing rows are numbered by their time, then by rowid on
SQLite (insertion order) or by id on PostgreSQL

Revision ID: 0007_creation_order
Revises: 0008_metric_batches (landed first; 0007 runs after it)
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_creation_order"
down_revision = "0008_metric_batches"
branch_labels = None
depends_on = None

# table -> (its time column, its id column)
_TABLES = {"runs": ("start_time", "run_uuid"), "logged_models": ("creation_timestamp", "model_id")}


def _backfill(table: str, time_column: str, id_column: str) -> None:
    dialect_name = op.get_bind().dialect.name
    if dialect_name == "sqlite":
        # Window functions, then a lookup by rowid (UPDATE ... FROM needs SQLite 3.33).
        op.execute("CREATE TEMP TABLE tracklet_creation_order (row_id INTEGER PRIMARY KEY, n)")
        op.execute(
            "INSERT INTO tracklet_creation_order SELECT rowid, ROW_NUMBER() OVER"
            f" (ORDER BY COALESCE({time_column}, 0), rowid) FROM {table}"
        )
        op.execute(
            f"UPDATE {table} SET creation_seq = (SELECT n FROM tracklet_creation_order"
            f" WHERE row_id = {table}.rowid)"
        )
        op.execute("DROP TABLE tracklet_creation_order")
        return
    op.execute(
        f"UPDATE {table} SET creation_seq = numbered.n FROM (SELECT {id_column}, ROW_NUMBER()"
        f" OVER (ORDER BY COALESCE({time_column}, 0), {id_column}) AS n FROM {table}) AS numbered"
        f" WHERE {table}.{id_column} = numbered.{id_column}"
    )
    sequence = f"{table}_creation_seq"
    op.execute(f"CREATE SEQUENCE {sequence}")
    # The next row is numbered after every backfilled one.
    op.execute(
        f"SELECT setval('{sequence}', n) FROM (SELECT MAX(creation_seq) AS n FROM {table})"
        " AS latest WHERE n IS NOT NULL"
    )


def upgrade() -> None:
    for table, (time_column, id_column) in _TABLES.items():
        op.add_column(table, sa.Column("creation_seq", sa.BigInteger(), nullable=True))
        _backfill(table, time_column, id_column)
        op.create_index(f"ix_{table}_creation_seq", table, ["creation_seq"], unique=True)
    # The default orders walked with no sort: start_time DESC, then creation DESC (and
    # backwards for start_time ASC); creation_timestamp then creation, either way.
    op.drop_index("ix_runs_experiment_id_start_time", table_name="runs")
    op.create_index(
        "ix_runs_experiment_id_start_time",
        "runs",
        [sa.column("experiment_id"), sa.text("start_time DESC"), sa.text("creation_seq DESC")],
    )
    op.drop_index("ix_logged_models_experiment_id_creation", table_name="logged_models")
    op.create_index(
        "ix_logged_models_experiment_id_creation",
        "logged_models",
        ["experiment_id", "creation_timestamp", "creation_seq"],
    )


def downgrade() -> None:
    op.drop_index("ix_logged_models_experiment_id_creation", table_name="logged_models")
    op.create_index(
        "ix_logged_models_experiment_id_creation",
        "logged_models",
        ["experiment_id", "creation_timestamp"],
    )
    op.drop_index("ix_runs_experiment_id_start_time", table_name="runs")
    op.create_index(
        "ix_runs_experiment_id_start_time",
        "runs",
        [sa.column("experiment_id"), sa.text("start_time DESC"), sa.column("run_uuid")],
    )
    for table in _TABLES:
        op.drop_index(f"ix_{table}_creation_seq", table_name=table)
        if op.get_bind().dialect.name != "sqlite":
            op.execute(f"DROP SEQUENCE {table}_creation_seq")
        op.drop_column(table, "creation_seq")
