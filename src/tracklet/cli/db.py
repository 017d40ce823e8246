"""``tracklet db upgrade URL``: bring a tracking database's schema to this tracklet's revision.

Opening a database from tracklet migrates it too; the command is for doing it at a chosen time
(before a deployment's servers start), as ``mlflow db upgrade`` does for MLflow's.
"""

from __future__ import annotations

import click


@click.group()
def db() -> None:
    """Commands for managing a tracklet tracking database."""


@db.command()
@click.argument("url")
def upgrade(url: str) -> None:
    """Upgrade the schema of the tracking database at URL (sqlite:/// or postgresql://) to the
    newest revision, creating it in an empty database. Another program's database (an MLflow
    one, say) is refused and left unchanged.
    """
    from tracklet.exceptions import MlflowException
    from tracklet.store.sql import migrations
    from tracklet.store.sql.engine import create_sql_engine, normalize_db_uri
    from tracklet.store.sql.schema_version import database_revision
    from tracklet.store.sql.store import SqlStore

    if url.partition("://")[0].partition("+")[0] not in ("sqlite", "postgresql", "postgres"):
        raise click.BadParameter(
            f"{url!r} is not a database URI: expected sqlite:///path.db or postgresql://...",
            param_hint="URL",
        )
    try:
        engine = create_sql_engine(normalize_db_uri(url))
        try:
            before = database_revision(engine)
        finally:
            engine.dispose()
        SqlStore(url).close()  # opening creates or migrates the schema, in one transaction
    except MlflowException as error:
        raise click.ClickException(" ".join(error.message.split())) from None
    if before == migrations.HEAD:
        click.echo(f"The database is already at the newest revision, {migrations.HEAD}.")
    elif before is None:
        click.echo(f"Created the tracklet schema at revision {migrations.HEAD}.")
    else:
        click.echo(f"Upgraded the database from revision {before} to {migrations.HEAD}.")
