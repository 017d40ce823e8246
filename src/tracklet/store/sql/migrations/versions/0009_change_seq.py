"""change cursor: runs.change_seq, numbered by triggers whenever a run or its metrics, params or
tags are written, so that live updates on any worker of any server read what changed after the
last number they saw; existing runs keep NULL (no change since)

Revision ID: 0009_change_seq
Revises: 0007_creation_order
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tracklet.store.sql.change_triggers import (
    CHANGE_SEQUENCE,
    change_trigger_ddl,
    drop_change_trigger_ddl,
)

revision = "0009_change_seq"
down_revision = "0007_creation_order"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect_name = op.get_bind().dialect.name
    op.add_column("runs", sa.Column("change_seq", sa.BigInteger(), nullable=True))
    op.create_index("ix_runs_experiment_id_change_seq", "runs", ["experiment_id", "change_seq"])
    op.create_index("ix_runs_change_seq", "runs", ["change_seq"])
    if dialect_name != "sqlite":
        op.execute(f"CREATE SEQUENCE {CHANGE_SEQUENCE}")
    # As 0009 made them (0012 and 0013 change them).
    for statement in change_trigger_ddl(dialect_name, skipping=False, with_batches=True):
        op.execute(statement)


def downgrade() -> None:
    dialect_name = op.get_bind().dialect.name
    for statement in drop_change_trigger_ddl(dialect_name, with_batches=True):
        op.execute(statement)
    op.drop_index("ix_runs_change_seq", table_name="runs")
    op.drop_index("ix_runs_experiment_id_change_seq", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("change_seq")
    if dialect_name != "sqlite":
        op.execute(f"DROP SEQUENCE {CHANGE_SEQUENCE}")
