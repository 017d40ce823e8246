"""Alembic environment: runs on the connection tracklet hands over, never opens its own."""

from __future__ import annotations

from alembic import context

from tracklet.store.sql.schema import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("tracklet migrations run through tracklet.store.sql.migrations.upgrade()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
