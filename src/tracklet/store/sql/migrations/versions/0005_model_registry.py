"""model registry: registered models, model versions, their tags and aliases

Revision ID: 0005_model_registry
Revises: 0004_run_packs
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_model_registry"
down_revision = "0004_run_packs"
branch_labels = None
depends_on = None


def _name_column() -> sa.Column[str]:
    return sa.Column(
        "name",
        sa.String(256),
        sa.ForeignKey("registered_models.name", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_time", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(5000)),
        sa.Column("deployment_job_id", sa.String(256)),
        sa.PrimaryKeyConstraint("name", name="pk_registered_models"),
    )
    op.create_table(
        "model_versions",
        _name_column(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_time", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(5000)),
        sa.Column("user_id", sa.String(256)),
        sa.Column("current_stage", sa.String(20), nullable=False),
        sa.Column("source", sa.Text()),
        sa.Column("storage_location", sa.Text()),
        sa.Column("run_id", sa.String(32)),
        sa.Column("run_link", sa.String(500)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_message", sa.String(500)),
        sa.Column("model_id", sa.String(64)),
        sa.PrimaryKeyConstraint("name", "version", name="pk_model_versions"),
    )
    op.create_index(
        "ix_model_versions_name_last_updated_time",
        "model_versions",
        ["name", "last_updated_time"],
    )
    op.create_index("ix_model_versions_last_updated_time", "model_versions", ["last_updated_time"])
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"])
    op.create_table(
        "registered_model_tags",
        _name_column(),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text()),
        sa.PrimaryKeyConstraint("name", "key", name="pk_registered_model_tags"),
    )
    op.create_table(
        "model_version_tags",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text()),
        sa.PrimaryKeyConstraint("name", "version", "key", name="pk_model_version_tags"),
        sa.ForeignKeyConstraint(
            ["name", "version"],
            ["model_versions.name", "model_versions.version"],
            onupdate="CASCADE",
            ondelete="CASCADE",
            name="fk_model_version_tags_name_model_versions",
        ),
    )
    op.create_table(
        "registered_model_aliases",
        _name_column(),
        sa.Column("alias", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", "alias", name="pk_registered_model_aliases"),
    )


def downgrade() -> None:
    for table in (
        "registered_model_aliases",
        "model_version_tags",
        "registered_model_tags",
        "model_versions",
        "registered_models",
    ):
        op.drop_table(table)
