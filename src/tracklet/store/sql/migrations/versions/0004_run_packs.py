"""run packs: runs.pack holds an ended run's params, tags and latest metrics as one text, kept
fresh by triggers that clear it when the run's parts change; the default search order's index
descends on start_time

Revision ID: 0004_run_packs
Revises: 0003_logged_model_metric_index
Create Date: 2026-11-26

Runs that ended before this revision have no pack: searches read their parts, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_run_packs"
down_revision = "0003_logged_model_metric_index"
branch_labels = None
depends_on = None

# As pack_triggers.pack_trigger_ddl wrote them when this revision was written; a migration never
# changes.
_LOCK_SPACE = 7264
_LOCK_BUCKETS = 64
_CHANGED = {
    "params": "OLD.value {distinct} NEW.value",
    "tags": "OLD.value {distinct} NEW.value",
    "latest_metrics": (
        "OLD.value {distinct} NEW.value OR OLD.is_nan <> NEW.is_nan"
        " OR OLD.timestamp <> NEW.timestamp OR OLD.step <> NEW.step"
    ),
}
_EVENTS = (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))


def _trigger_ddl(dialect_name: str) -> list[str]:
    statements = []
    if dialect_name == "sqlite":
        for table, changed in _CHANGED.items():
            for event, row in _EVENTS:
                when = f" WHEN {changed.format(distinct='IS NOT')}" if event == "UPDATE" else ""
                statements.append(
                    f"CREATE TRIGGER tr_{table}_{event.lower()}_unpack AFTER {event} ON {table}"
                    f" FOR EACH ROW{when} BEGIN"
                    f" UPDATE runs SET pack = NULL WHERE run_uuid = {row}.run_uuid"
                    " AND pack IS NOT NULL; END"
                )
        return statements
    statements.append(
        "CREATE FUNCTION tracklet_unpack_runs() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  PERFORM pg_advisory_xact_lock_shared({_LOCK_SPACE}, bucket) FROM (\n"
        f"    SELECT DISTINCT hashtext(run_uuid) & {_LOCK_BUCKETS - 1} AS bucket FROM changed\n"
        "    ORDER BY bucket) AS buckets;\n"
        "  UPDATE runs SET pack = NULL\n"
        "    WHERE run_uuid IN (SELECT run_uuid FROM changed) AND pack IS NOT NULL;\n"
        "  RETURN NULL;\n"
        "END $$"
    )
    for table in _CHANGED:
        for event, rows in _EVENTS:
            statements.append(
                f"CREATE TRIGGER tr_{table}_{event.lower()}_unpack AFTER {event} ON {table}"
                f" REFERENCING {rows} TABLE AS changed FOR EACH STATEMENT"
                " EXECUTE FUNCTION tracklet_unpack_runs()"
            )
    return statements


def upgrade() -> None:
    op.add_column("runs", sa.Column("pack", sa.Text(), nullable=True))
    # The default search order walked with no sort: start_time DESC, then run_uuid ASC.
    op.drop_index("ix_runs_experiment_id_start_time", table_name="runs")
    op.create_index(
        "ix_runs_experiment_id_start_time",
        "runs",
        [sa.column("experiment_id"), sa.text("start_time DESC"), sa.column("run_uuid")],
    )
    for statement in _trigger_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    dialect_name = op.get_bind().dialect.name
    for table in _CHANGED:
        for event, _row in _EVENTS:
            on = "" if dialect_name == "sqlite" else f" ON {table}"
            op.execute(f"DROP TRIGGER tr_{table}_{event.lower()}_unpack{on}")
    if dialect_name != "sqlite":
        op.execute("DROP FUNCTION tracklet_unpack_runs()")
    op.drop_index("ix_runs_experiment_id_start_time", table_name="runs")
    op.create_index(
        "ix_runs_experiment_id_start_time", "runs", ["experiment_id", "start_time", "run_uuid"]
    )
    op.drop_column("runs", "pack")
