"""search indexes: (key, value) on latest metrics, (key, value prefix) on params and tags

Revision ID: 0002_search_indexes
Revises: 0001_initial
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_search_indexes"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

# As schema.SEARCH_VALUE_PREFIX when this revision was written; a migration never changes.
_PREFIX = 100


def upgrade() -> None:
    for table in ("params", "tags"):
        op.create_index(
            f"ix_{table}_key_value_prefix",
            table,
            [
                sa.column("key"),
                sa.func.substr(sa.column("value"), 1, _PREFIX),
                sa.column("run_uuid"),
            ],
        )
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value", "run_uuid"])


def downgrade() -> None:
    op.drop_index("ix_latest_metrics_key_value", table_name="latest_metrics")
    for table in ("tags", "params"):
        op.drop_index(f"ix_{table}_key_value_prefix", table_name=table)
