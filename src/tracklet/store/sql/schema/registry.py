"""The model registry's tables: registered models, their versions, tags and aliases."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from tracklet.store.sql.schema.core import metadata

# Names are the keys, as in MLflow: renaming a model cascades into its versions, tags and
# aliases. A deleted version stays as a row in the internal stage ``Deleted_Internal``, so its
# number is never handed out again.
registered_models = Table(
    "registered_models",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("description", String(5000)),
    Column("deployment_job_id", String(256)),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column(
        "name",
        String(256),
        ForeignKey("registered_models.name", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("version", Integer, nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("description", String(5000)),
    Column("user_id", String(256)),
    Column("current_stage", String(20), nullable=False),
    Column("source", Text),
    # Where the artifacts are read from: ``source`` resolved (a logged model's location for a
    # ``models:/m-...`` source, the source version's location for ``models:/name/3``).
    Column("storage_location", Text),
    Column("run_id", String(32)),
    Column("run_link", String(500)),
    Column("status", String(20), nullable=False),
    Column("status_message", String(500)),
    Column("model_id", String(64)),
    PrimaryKeyConstraint("name", "version"),
    # search_model_versions' default order within one model, and across models.
    Index("ix_model_versions_name_last_updated_time", "name", "last_updated_time"),
    Index("ix_model_versions_last_updated_time", "last_updated_time"),
    Index("ix_model_versions_run_id", "run_id"),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column(
        "name",
        String(256),
        ForeignKey("registered_models.name", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", Text),
    PrimaryKeyConstraint("name", "key"),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("name", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text),
    PrimaryKeyConstraint("name", "version", "key"),
    ForeignKeyConstraint(
        ["name", "version"],
        ["model_versions.name", "model_versions.version"],
        onupdate="CASCADE",
        ondelete="CASCADE",
        name="fk_model_version_tags_name_model_versions",
    ),
)

registered_model_aliases = Table(
    "registered_model_aliases",
    metadata,
    Column(
        "name",
        String(256),
        ForeignKey("registered_models.name", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("alias", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("name", "alias"),
)
