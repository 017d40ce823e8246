"""wide metric batches no longer number their run at insert: every read folds them first, and
the fold's writes to latest_metrics number the run (``change_triggers._BATCHES``)

Revision ID: 0013_no_batch_change_trigger
Revises: 0012_bookkept_latest_writes
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from tracklet.store.sql.change_triggers import (
    batch_change_trigger_ddl,
    drop_batch_change_trigger_ddl,
)

revision = "0013_no_batch_change_trigger"
down_revision = "0012_bookkept_latest_writes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(drop_batch_change_trigger_ddl(op.get_bind().dialect.name))


def downgrade() -> None:
    op.execute(batch_change_trigger_ddl(op.get_bind().dialect.name))
