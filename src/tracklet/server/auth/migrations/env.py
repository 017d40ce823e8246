"""Alembic environment of the auth database: runs on the connection ``migrate`` hands over."""

from __future__ import annotations

from alembic import context

from tracklet.server.auth.migrations import VERSION_TABLE

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("auth migrations run through tracklet.server.auth.migrations.migrate()")

context.configure(
    connection=connection,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
