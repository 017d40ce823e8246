"""bookkept latest writes: on PostgreSQL, the latest_metrics insert and update statement
triggers (pack clearing, change numbering) skip a statement that does that bookkeeping for its
run itself (``pg_points``: it sets ``tracklet.bookkept_run`` while it writes); SQLite unchanged

Revision ID: 0012_bookkept_latest_writes
Revises: 0011_compact_metric_batches
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0012_bookkept_latest_writes"
down_revision = "0011_compact_metric_batches"
branch_labels = None
depends_on = None

# The DDL as of this revision (frozen: the live one is in pack_triggers / change_triggers).
_WHEN = "WHEN (COALESCE(current_setting('tracklet.bookkept_run', true), '') = '')"
_TRIGGERS = {
    f"tr_latest_metrics_{event.lower()}_{kind}": (event, function)
    for event in ("INSERT", "UPDATE")
    for kind, function in (
        ("unpack", "tracklet_unpack_runs"),
        ("watched", "tracklet_number_changed_runs"),
    )
}


def _recreate(when: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name, (event, function) in _TRIGGERS.items():
        op.execute(f"DROP TRIGGER {name} ON latest_metrics")
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON latest_metrics"
            f" REFERENCING NEW TABLE AS changed FOR EACH STATEMENT{when}"
            f" EXECUTE FUNCTION {function}()"
        )


def upgrade() -> None:
    _recreate(f" {_WHEN}")


def downgrade() -> None:
    _recreate("")
