"""initial schema: experiments, runs, params, tags, metrics, datasets, run inputs and outputs

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("experiment_id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.String(2048)),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False),
        sa.Column("creation_time", sa.BigInteger),
        sa.Column("last_update_time", sa.BigInteger),
        sa.PrimaryKeyConstraint("experiment_id", name="pk_experiments"),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
    )
    op.create_table(
        "experiment_tags",
        sa.Column("experiment_id", _BigId, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.String(20000)),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            ondelete="CASCADE",
            name="fk_experiment_tags_experiment_id_experiments",
        ),
        sa.PrimaryKeyConstraint("experiment_id", "key", name="pk_experiment_tags"),
    )
    op.create_table(
        "runs",
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("experiment_id", _BigId, nullable=False),
        sa.Column("name", sa.String(250)),
        sa.Column("user_id", sa.String(256)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("start_time", sa.BigInteger),
        sa.Column("end_time", sa.BigInteger),
        sa.Column("deleted_time", sa.BigInteger),
        sa.Column("lifecycle_stage", sa.String(20), nullable=False),
        sa.Column("artifact_uri", sa.String(2048)),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            name="fk_runs_experiment_id_experiments",
        ),
        sa.PrimaryKeyConstraint("run_uuid", name="pk_runs"),
    )
    op.create_index(
        "ix_runs_experiment_id_start_time", "runs", ["experiment_id", "start_time", "run_uuid"]
    )
    for table, value_length in (("params", 6000), ("tags", 8000)):
        op.create_table(
            table,
            sa.Column("run_uuid", sa.String(32), nullable=False),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.String(value_length), nullable=table != "params"),
            sa.ForeignKeyConstraint(
                ["run_uuid"],
                ["runs.run_uuid"],
                ondelete="CASCADE",
                name=f"fk_{table}_run_uuid_runs",
            ),
            sa.PrimaryKeyConstraint("run_uuid", "key", name=f"pk_{table}"),
        )
    op.create_table(
        "latest_metrics",
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Float(precision=53)),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("tail_n", sa.Integer, nullable=False),
        sa.Column("tail", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_uuid"],
            ["runs.run_uuid"],
            ondelete="CASCADE",
            name="fk_latest_metrics_run_uuid_runs",
        ),
        sa.PrimaryKeyConstraint("run_uuid", "key", name="pk_latest_metrics"),
    )
    op.create_table(
        "metric_chunks",
        sa.Column("chunk_id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_uuid"],
            ["runs.run_uuid"],
            ondelete="CASCADE",
            name="fk_metric_chunks_run_uuid_runs",
        ),
        sa.PrimaryKeyConstraint("chunk_id", name="pk_metric_chunks"),
    )
    op.create_index(
        "ix_metric_chunks_run_uuid_key", "metric_chunks", ["run_uuid", "key", "chunk_id"]
    )
    op.create_table(
        "datasets",
        sa.Column("dataset_uuid", sa.String(36), nullable=False),
        sa.Column("experiment_id", _BigId, nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("digest", sa.String(36), nullable=False),
        sa.Column("source_type", sa.String(36), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("schema", sa.Text),
        sa.Column("profile", sa.Text),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            ondelete="CASCADE",
            name="fk_datasets_experiment_id_experiments",
        ),
        sa.PrimaryKeyConstraint("dataset_uuid", name="pk_datasets"),
        sa.UniqueConstraint(
            "experiment_id", "name", "digest", name="uq_datasets_experiment_id_name_digest"
        ),
    )
    op.create_table(
        "run_dataset_inputs",
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("dataset_uuid", sa.String(36), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_uuid"],
            ["runs.run_uuid"],
            ondelete="CASCADE",
            name="fk_run_dataset_inputs_run_uuid_runs",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_uuid"],
            ["datasets.dataset_uuid"],
            ondelete="CASCADE",
            name="fk_run_dataset_inputs_dataset_uuid_datasets",
        ),
        sa.PrimaryKeyConstraint("run_uuid", "dataset_uuid", name="pk_run_dataset_inputs"),
    )
    op.create_table(
        "input_tags",
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("dataset_uuid", sa.String(36), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("run_uuid", "dataset_uuid", "key", name="pk_input_tags"),
    )
    op.create_table(
        "run_model_inputs",
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_uuid"],
            ["runs.run_uuid"],
            ondelete="CASCADE",
            name="fk_run_model_inputs_run_uuid_runs",
        ),
        sa.PrimaryKeyConstraint("run_uuid", "model_id", name="pk_run_model_inputs"),
    )
    op.create_table(
        "run_model_outputs",
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_uuid"],
            ["runs.run_uuid"],
            ondelete="CASCADE",
            name="fk_run_model_outputs_run_uuid_runs",
        ),
        sa.PrimaryKeyConstraint("run_uuid", "model_id", "step", name="pk_run_model_outputs"),
    )

    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("experiment_id", _BigId, nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.String(2048), nullable=False),
        sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("status_message", sa.Text),
        sa.Column("model_type", sa.String(500)),
        sa.Column("source_run_id", sa.String(32)),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            ondelete="CASCADE",
            name="fk_logged_models_experiment_id_experiments",
        ),
        sa.PrimaryKeyConstraint("model_id", name="pk_logged_models"),
    )
    op.create_index(
        "ix_logged_models_experiment_id_creation",
        "logged_models",
        ["experiment_id", "creation_timestamp"],
    )
    for table, value_length in (("logged_model_tags", 8000), ("logged_model_params", 6000)):
        op.create_table(
            table,
            sa.Column("model_id", sa.String(64), nullable=False),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.String(value_length), nullable=False),
            sa.ForeignKeyConstraint(
                ["model_id"],
                ["logged_models.model_id"],
                ondelete="CASCADE",
                name=f"fk_{table}_model_id_logged_models",
            ),
            sa.PrimaryKeyConstraint("model_id", "key", name=f"pk_{table}"),
        )
    op.create_table(
        "logged_model_metrics",
        sa.Column("point_id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Float(precision=53)),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("run_uuid", sa.String(32)),
        sa.Column("dataset_name", sa.String(500)),
        sa.Column("dataset_digest", sa.String(36)),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["logged_models.model_id"],
            ondelete="CASCADE",
            name="fk_logged_model_metrics_model_id_logged_models",
        ),
        sa.PrimaryKeyConstraint("point_id", name="pk_logged_model_metrics"),
    )
    op.create_index(
        "ix_logged_model_metrics_model_id_key", "logged_model_metrics", ["model_id", "key"]
    )


def downgrade() -> None:
    for table in (
        "logged_model_metrics",
        "logged_model_params",
        "logged_model_tags",
        "logged_models",
        "run_model_outputs",
        "run_model_inputs",
        "input_tags",
        "run_dataset_inputs",
        "datasets",
        "metric_chunks",
        "latest_metrics",
        "tags",
        "params",
        "runs",
        "experiment_tags",
        "experiments",
    ):
        op.drop_table(table)
