"""Migrations reach the schema that ``metadata.create_all`` makes, search indexes and the run
packs' triggers included."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tracklet.store.sql import migrations
from tracklet.store.sql.engine import normalize_db_uri
from tracklet.store.sql.schema import VERSION_TABLE, metadata

# Expression indexes: SQLAlchemy cannot reflect them on SQLite, and Alembic does not compare
# them, so their definitions are compared as the databases themselves report them.
EXPRESSION_INDEXES = (
    "ix_params_key_value_prefix",
    "ix_tags_key_value_prefix",
    "ix_runs_experiment_id_start_time",  # start_time DESC
    "ix_trace_info_experiment_id_timestamp",  # timestamp_ms DESC
    "ix_trace_info_model_id_timestamp",
    "ix_trace_info_run_id_timestamp",
)


def _compared(obj: Any, name: str | None, type_: str, *_: Any) -> bool:
    if type_ == "table":
        return name != VERSION_TABLE  # Alembic's own table is not in the metadata
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def _index_definitions(conn: sa.Connection) -> dict[str, str]:
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
    else:
        rows = conn.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        )
    found = {}
    for name, sql in rows:
        if name in EXPRESSION_INDEXES:
            # Spacing, quoting and the schema name are presentation, not definition.
            text = re.sub(r"[\s\"]", "", sql or "").lower()
            found[name] = re.sub(r"on[a-z_0-9]+\.", "on", text)
    return found


def _trigger_definitions(conn: sa.Connection) -> dict[str, str]:
    """Triggers (and, on PostgreSQL, the function they call) as the database reports them."""
    if conn.dialect.name == "sqlite":
        rows = list(
            conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        )
    else:
        rows = list(
            conn.exec_driver_sql(
                "SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t"
                " JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
            )
        )
        rows += conn.exec_driver_sql(
            "SELECT proname, prosrc FROM pg_proc"
            " WHERE pronamespace = current_schema()::regnamespace"
        )
    return {name: re.sub(r"\s+", " ", re.sub(r"ON [a-z_0-9]+\.", "ON ", sql)) for name, sql in rows}


def _table_options(conn: sa.Connection) -> dict[str, list[str]]:
    """PostgreSQL's per-table storage parameters (none on SQLite)."""
    if conn.dialect.name == "sqlite":
        return {}
    rows = conn.exec_driver_sql(
        "SELECT relname, reloptions FROM pg_class WHERE relkind = 'r'"
        " AND relnamespace = current_schema()::regnamespace AND reloptions IS NOT NULL"
    )
    return {name: sorted(options) for name, options in rows}


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression")
def test_upgrade_from_empty_matches_create_all(store_uri: str) -> None:
    engine = sa.create_engine(normalize_db_uri(store_uri))
    try:
        with engine.begin() as conn:
            migrations.upgrade(conn)
            context = MigrationContext.configure(conn, opts={"include_object": _compared})
            assert compare_metadata(context, metadata) == []
            migrated = _index_definitions(conn)
            migrated_triggers = _trigger_definitions(conn)
            migrated_options = _table_options(conn)
            version = conn.exec_driver_sql("SELECT version_num FROM tracklet_alembic_version")
            assert version.scalar() == migrations.HEAD
            # The same database made by create_all, in a schema (or attached file) of its own.
            if conn.dialect.name == "sqlite":
                for table in reversed(metadata.sorted_tables):
                    conn.exec_driver_sql(f'DROP TABLE "{table.name}"')
            else:
                schema = f"c_{uuid.uuid4().hex[:10]}"
                conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
                conn.exec_driver_sql(f"SET LOCAL search_path TO {schema}")
            metadata.create_all(conn)
            created = _index_definitions(conn)
            created_triggers = _trigger_definitions(conn)
            created_options = _table_options(conn)
            if conn.dialect.name != "sqlite":
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    finally:
        engine.dispose()
    assert sorted(migrated) == sorted(EXPRESSION_INDEXES)
    assert migrated == created
    # Insert, update and delete on params, tags and latest metrics each drop the run's pack.
    triggers = {name for name in created_triggers if name.startswith("tr_")}
    assert triggers == {
        f"tr_{table}_{event}_unpack"
        for table in ("params", "tags", "latest_metrics")
        for event in ("insert", "update", "delete")
    } | {"tr_metric_batches_insert_unpack"} | {  # a wide batch's row (migration 0008)
        # Every write to a run numbers it: the live updates' change cursor (migration 0009).
        "tr_runs_insert_watched",
        "tr_runs_update_watched",
        *(
            f"tr_{t}_{e}_watched"
            for t in ("params", "tags", "latest_metrics")
            for e in ("insert", "update")
        ),
    }
    assert migrated_triggers == created_triggers
    # PostgreSQL keeps a batch's metric blobs inline up to a page (migration 0010, pg_storage).
    assert migrated_options == created_options
    if created_options:
        assert created_options == {
            table: ["toast_tuple_target=8160"] for table in ("metric_chunks", "metric_batches")
        }
    assert re.search(
        r"\(key,substr\(\(?value\)?(::text)?,1,100\),run_uuid\)",
        created["ix_params_key_value_prefix"],
    )


def test_head_is_the_newest_known_revision() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrations.alembic_config())  # type: ignore[arg-type]
    assert migrations.KNOWN_REVISIONS[-1] == migrations.HEAD == script.get_current_head()
    revisions = [r.revision for r in script.walk_revisions()]
    assert sorted(revisions) == sorted(migrations.KNOWN_REVISIONS)
