"""traces: trace_info, trace_tags, trace_metadata, spans and trace_run_links

Revision ID: 0006_traces
Revises: 0005_model_registry
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_traces"
down_revision = "0005_model_registry"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "trace_info",
        sa.Column("trace_id", sa.String(50), nullable=False),
        sa.Column("experiment_id", _BigId, nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("execution_time_ms", sa.BigInteger()),
        sa.Column("status", sa.String(50), nullable=False),
        sa.Column("client_request_id", sa.String(250)),
        sa.Column("request_preview", sa.Text()),
        sa.Column("response_preview", sa.Text()),
        sa.Column("name", sa.String(500)),
        sa.Column("model_id", sa.String(64)),
        sa.Column("run_id", sa.String(32)),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            name="fk_trace_info_experiment_id_experiments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trace_id", name="pk_trace_info"),
    )
    for column in ("experiment_id", "model_id", "run_id"):
        op.create_index(
            f"ix_trace_info_{column}_timestamp",
            "trace_info",
            [column, sa.text("timestamp_ms DESC"), "trace_id"],
        )
    for table in ("trace_tags", "trace_metadata"):
        op.create_table(
            table,
            sa.Column("trace_id", sa.String(50), nullable=False),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.Text()),
            sa.ForeignKeyConstraint(
                ["trace_id"],
                ["trace_info.trace_id"],
                name=f"fk_{table}_trace_id_trace_info",
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("trace_id", "key", name=f"pk_{table}"),
        )
    op.create_table(
        "spans",
        sa.Column("trace_id", sa.String(50), nullable=False),
        sa.Column("span_id", sa.String(50), nullable=False),
        sa.Column("parent_span_id", sa.String(50)),
        sa.Column("name", sa.Text()),
        sa.Column("type", sa.String(500)),
        sa.Column("status", sa.String(50), nullable=False),
        sa.Column("start_time_unix_nano", sa.BigInteger(), nullable=False),
        sa.Column("end_time_unix_nano", sa.BigInteger()),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trace_id"],
            ["trace_info.trace_id"],
            name="fk_spans_trace_id_trace_info",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trace_id", "span_id", name="pk_spans"),
    )
    op.create_table(
        "trace_run_links",
        sa.Column("trace_id", sa.String(50), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["trace_id"],
            ["trace_info.trace_id"],
            name="fk_trace_run_links_trace_id_trace_info",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trace_id", "run_id", name="pk_trace_run_links"),
    )
    op.create_index("ix_trace_run_links_run_id", "trace_run_links", ["run_id"])


def downgrade() -> None:
    for table in ("trace_run_links", "spans", "trace_metadata", "trace_tags", "trace_info"):
        op.drop_table(table)
