"""Alembic migrations of tracklet's schema.

``HEAD`` names the newest revision in ``versions/``; a test checks the two agree and that
upgrading an empty database to HEAD gives exactly the schema in ``schema.py``.
"""

from __future__ import annotations

import os

from sqlalchemy.engine import Connection

HEAD = "0013_no_batch_change_trigger"
KNOWN_REVISIONS = (
    "0001_initial",
    "0002_search_indexes",
    "0003_logged_model_metric_index",
    "0004_run_packs",
    "0005_model_registry",
    "0006_traces",
    "0008_metric_batches",
    # Chained after 0008, which landed first (the order of application is the chain's).
    "0007_creation_order",
    "0009_change_seq",
    "0010_blob_storage",
    "0011_compact_metric_batches",
    "0012_bookkept_latest_writes",
    "0013_no_batch_change_trigger",
)

_HERE = os.path.dirname(os.path.abspath(__file__))


def alembic_config(connection: Connection | None = None) -> object:
    from alembic.config import Config

    from tracklet.store.sql.schema import VERSION_TABLE

    config = Config()
    config.set_main_option("script_location", _HERE)
    config.set_main_option("version_table", VERSION_TABLE)
    config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Migrate the database behind ``connection`` (already in a transaction) to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(connection), revision)  # type: ignore[arg-type]
