"""logged-model metrics indexed by (key, value) for search_logged_models

Revision ID: 0003_logged_model_metric_index
Revises: 0002_search_indexes
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0003_logged_model_metric_index"
down_revision = "0002_search_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_logged_model_metrics_key_value", "logged_model_metrics", ["key", "value"])


def downgrade() -> None:
    op.drop_index("ix_logged_model_metrics_key_value", table_name="logged_model_metrics")
