"""metric batches: a wide log_batch (many keys, a few points each) is written as one row, folded
into latest_metrics and metric_chunks before anything reads them; inserting one clears the
run's pack

Revision ID: 0008_metric_batches
Revises: 0006_traces
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_metric_batches"
down_revision = "0006_traces"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _trigger_ddl(dialect_name: str) -> str:
    # As pack_triggers.pack_trigger_ddl wrote it when this revision was written.
    if dialect_name == "sqlite":
        return (
            "CREATE TRIGGER tr_metric_batches_insert_unpack AFTER INSERT ON metric_batches"
            " FOR EACH ROW BEGIN"
            " UPDATE runs SET pack = NULL WHERE run_uuid = NEW.run_uuid"
            " AND pack IS NOT NULL; END"
        )
    return (
        "CREATE TRIGGER tr_metric_batches_insert_unpack AFTER INSERT ON metric_batches"
        " REFERENCING NEW TABLE AS changed FOR EACH STATEMENT"
        " EXECUTE FUNCTION tracklet_unpack_runs()"
    )


def upgrade() -> None:
    op.create_table(
        "metric_batches",
        sa.Column("batch_id", _BigId, autoincrement=True, nullable=False),
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("metric_keys", sa.LargeBinary(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_uuid"],
            ["runs.run_uuid"],
            name="fk_metric_batches_run_uuid_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("batch_id", name="pk_metric_batches"),
    )
    op.create_index("ix_metric_batches_run_uuid", "metric_batches", ["run_uuid"])
    op.execute(_trigger_ddl(op.get_bind().dialect.name))


def downgrade() -> None:
    on = "" if op.get_bind().dialect.name == "sqlite" else " ON metric_batches"
    op.execute(f"DROP TRIGGER tr_metric_batches_insert_unpack{on}")
    op.drop_index("ix_metric_batches_run_uuid", table_name="metric_batches")
    op.drop_table("metric_batches")
