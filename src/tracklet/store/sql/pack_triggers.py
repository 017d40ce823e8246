"""The triggers that clear a run's pack when its params, tags or latest metrics change.

A write to a run's params, tags or latest metrics clears the run's pack, in the writer's own
transaction, whatever code path wrote it: a pack is never stale. On PostgreSQL the triggers
also take a shared advisory lock (first key PACK_LOCK_SPACE, second the run's lock bucket,
hashtext(run_uuid) & PACK_LOCK_BUCKETS - 1); a packer takes its runs' buckets exclusively
before reading their parts, so a write that commits while a pack is being built always
clears that pack afterwards. Buckets, not one lock per run: a statement touching 100,000
runs (deleting an experiment's runs, say) would exhaust PostgreSQL's lock table.

PostgreSQL: a statement that does this bookkeeping itself (``pg_points``: one run, after its
latest values) sets ``BOOKKEPT_RUN`` to the run while it writes them; the latest_metrics
insert and update triggers (here and in ``change_triggers``) skip that statement (their
``WHEN``). Their plpgsql and queries over the transition tables cost ~0.1 ms of a 10 x 100
log-batch's ~0.65 ms of database CPU; the statement's own lock and update, ~10 us.
"""

from __future__ import annotations

PACK_LOCK_SPACE = 7264
PACK_LOCK_BUCKETS = 64
_PACKED_PARTS = {
    "params": "OLD.value {distinct} NEW.value",
    "tags": "OLD.value {distinct} NEW.value",
    # Most updates of a latest_metrics row append to its tail; only a new latest point matters
    # (SQLite's row triggers check; PostgreSQL's statement triggers drop on any update).
    "latest_metrics": (
        "OLD.value {distinct} NEW.value OR OLD.is_nan <> NEW.is_nan"
        " OR OLD.timestamp <> NEW.timestamp OR OLD.step <> NEW.step"
    ),
}
# A transaction-local setting (``set_config(..., true)``) naming the run whose pack lock, pack and
# change number the current statement takes care of itself; empty (or never set) otherwise.
BOOKKEPT_RUN = "tracklet.bookkept_run"
# The WHEN of the latest_metrics insert and update statement triggers (migration 0012).
UNLESS_BOOKKEPT = f"WHEN (COALESCE(current_setting('{BOOKKEPT_RUN}', true), '') = '')"
# Tables whose inserts alone change what a run's pack would hold: a wide metric batch is folded
# into latest_metrics (deleting its row) before a pack is built from them.
_INSERTED_PARTS = ("metric_batches",)


def pack_trigger_ddl(dialect_name: str) -> list[str]:
    """The statements creating the triggers that clear stale packs."""
    if dialect_name == "sqlite":
        # Row triggers (SQLite has no other kind); each looks the run up by primary key.
        statements = []
        for table, changed in _PACKED_PARTS.items():
            for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
                when = f" WHEN {changed.format(distinct='IS NOT')}" if event == "UPDATE" else ""
                statements.append(
                    f"CREATE TRIGGER tr_{table}_{event.lower()}_unpack AFTER {event} ON {table}"
                    f" FOR EACH ROW{when} BEGIN"
                    f" UPDATE runs SET pack = NULL WHERE run_uuid = {row}.run_uuid"
                    " AND pack IS NOT NULL; END"
                )
        for table in _INSERTED_PARTS:
            statements.append(
                f"CREATE TRIGGER tr_{table}_insert_unpack AFTER INSERT ON {table}"
                " FOR EACH ROW BEGIN"
                " UPDATE runs SET pack = NULL WHERE run_uuid = NEW.run_uuid"
                " AND pack IS NOT NULL; END"
            )
        return statements
    # Statement triggers over transition tables: one call per statement, not one per row of a
    # thousand-metric batch.
    statements = [
        "CREATE FUNCTION tracklet_unpack_runs() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  PERFORM pg_advisory_xact_lock_shared({PACK_LOCK_SPACE}, bucket) FROM (\n"
        f"    SELECT DISTINCT hashtext(run_uuid) & {PACK_LOCK_BUCKETS - 1} AS bucket FROM changed\n"
        "    ORDER BY bucket) AS buckets;\n"
        "  UPDATE runs SET pack = NULL\n"
        "    WHERE run_uuid IN (SELECT run_uuid FROM changed) AND pack IS NOT NULL;\n"
        "  RETURN NULL;\n"
        "END $$"
    ]
    for table in _PACKED_PARTS:
        for event, rows in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            when = f" {UNLESS_BOOKKEPT}" if skippable(table, event) else ""
            statements.append(
                f"CREATE TRIGGER tr_{table}_{event.lower()}_unpack AFTER {event} ON {table}"
                f" REFERENCING {rows} TABLE AS changed FOR EACH STATEMENT{when}"
                " EXECUTE FUNCTION tracklet_unpack_runs()"
            )
    for table in _INSERTED_PARTS:
        statements.append(
            f"CREATE TRIGGER tr_{table}_insert_unpack AFTER INSERT ON {table}"
            " REFERENCING NEW TABLE AS changed FOR EACH STATEMENT"
            " EXECUTE FUNCTION tracklet_unpack_runs()"
        )
    return statements


def skippable(table: str, event: str) -> bool:
    """Whether PostgreSQL's statement trigger on ``table`` for ``event`` skips a statement that
    keeps its run's books itself (see ``BOOKKEPT_RUN``)."""
    return table == "latest_metrics" and event in ("INSERT", "UPDATE")
