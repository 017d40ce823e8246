"""compact metric batches: a wide batch's key list stored once (metric_key_sets, named by a
digest of it), and a step's points sharing one step and timestamp stored as their values only;
rows written before keep their inline keys and records, and fold as before

Revision ID: 0011_compact_metric_batches
Revises: 0010_blob_storage
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_compact_metric_batches"
down_revision = "0010_blob_storage"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_COLUMNS = ("key_set_id", "step", "timestamp")


def upgrade() -> None:
    op.create_table(
        "metric_key_sets",
        sa.Column("key_set_id", _BigId, autoincrement=False, nullable=False),
        sa.Column("metric_keys", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key_set_id", name="pk_metric_key_sets"),
    )
    # Nullable columns without a default: no rewrite of the table on either database.
    for column in _COLUMNS:
        op.add_column("metric_batches", sa.Column(column, sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # Rows in the new form would lose their keys or records: fold (read the store) first.
    bind = op.get_bind()
    if bind.execute(
        sa.text("SELECT 1 FROM metric_batches WHERE key_set_id IS NOT NULL OR step IS NOT NULL")
    ).first():
        raise RuntimeError(
            "metric_batches holds rows in the compact form: open the store at this revision"
            " once (a read folds them) before downgrading"
        )
    for column in reversed(_COLUMNS):
        if bind.dialect.name == "sqlite":
            op.execute(f"ALTER TABLE metric_batches DROP COLUMN {column}")
        else:
            op.drop_column("metric_batches", column)
    op.drop_table("metric_key_sets")
