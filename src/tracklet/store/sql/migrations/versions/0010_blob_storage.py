"""blob storage: on PostgreSQL, metric_chunks and metric_batches rows up to a page stay inline
and uncompressed (toast_tuple_target), instead of compressed or moved out of line past ~2 kB;
rows written before keep their storage

Revision ID: 0010_blob_storage
Revises: 0009_change_seq
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from tracklet.store.sql.pg_storage import reset_storage_ddl, storage_ddl

revision = "0010_blob_storage"
down_revision = "0009_change_seq"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in storage_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in reset_storage_ddl(op.get_bind().dialect.name):
        op.execute(statement)
