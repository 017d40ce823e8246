"""The triggers that keep ``runs.change_seq``: a number, increasing across the whole database,
that a run takes whenever it is created, its status / end time / name / lifecycle changes, or a
metric, param or tag of it is written, whatever code path (or process, or server) wrote it.

It is the store's change cursor for live updates (``store.change_base``): a reader remembers
the largest number it has seen and asks for the runs numbered from it on, on any worker of any
server over the database. SQLite numbers with MAX + 1 inside the writer's transaction (one
writer at a time: commit order is number order); a run already holding the largest number keeps
it, so readers look at the run holding their cursor again. PostgreSQL numbers from a sequence;
two transactions may commit out of number order, so readers look back a window
(``change_store.LOOK_BACK``)."""

from __future__ import annotations

from tracklet.store.sql.pack_triggers import UNLESS_BOOKKEPT, skippable

# Tables whose rows belong to a run: a written row marks its run changed.
_RUN_PARTS = ("latest_metrics", "params", "tags")
# Migrations 0009-0012 also numbered a run at each insert of a wide metric batch's row;
# 0013 dropped that trigger. Every read, the change cursor's included, folds pending batches first
# (``SqlStoreBase._reader``), and the fold's writes to latest_metrics number the run: the
# trigger only renumbered runs nobody could read yet, rewriting the run's row and both of its
# change_seq index entries on every ``log_metrics`` step of two alternating runs (a fifth of a
# server's CPU for a 100-key step).
_BATCHES = "metric_batches"
# The run's own columns the UI shows live.
_RUN_COLUMNS = ("status", "end_time", "name", "lifecycle_stage")
CHANGE_SEQUENCE = "runs_change_seq"
# SQLite: a run that holds the largest number already keeps it (two index probes instead of
# rewriting the row): readers look at the run holding their cursor again.
_SQLITE_BUMP = (
    "UPDATE runs SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM runs)"
    " WHERE run_uuid = {row}.run_uuid"
    " AND (change_seq IS NULL OR change_seq < (SELECT MAX(change_seq) FROM runs));"
)


def change_trigger_ddl(
    dialect_name: str, *, skipping: bool = True, with_batches: bool = False
) -> list[str]:
    """The statements creating the triggers that number changed runs. As migration 0009 made
    them: ``skipping=False`` (before the latest_metrics ones skipped a bookkept statement,
    migration 0012) and ``with_batches=True`` (with the one on wide batches' inserts, dropped by
    migration 0013)."""
    if dialect_name == "sqlite":
        # Row triggers: a batch of params, tags and metrics would renumber its run once per
        # row, but a run holding the largest number keeps it (_SQLITE_BUMP).
        bump = _SQLITE_BUMP
        statements = [
            "CREATE TRIGGER tr_runs_insert_watched AFTER INSERT ON runs FOR EACH ROW BEGIN "
            + bump.format(row="NEW")
            + " END",
            f"CREATE TRIGGER tr_runs_update_watched AFTER UPDATE OF {', '.join(_RUN_COLUMNS)}"
            " ON runs FOR EACH ROW WHEN "
            + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _RUN_COLUMNS)
            + " BEGIN "
            + bump.format(row="NEW")
            + " END",
        ]
        return statements + [
            _part_trigger(dialect_name, table, event, skipping)
            for table, event in _parts(with_batches)
        ]
    # PostgreSQL: the run's own row numbers itself before it is written; its parts number their
    # runs once per statement (transition tables), not once per row of a wide batch. Triggers
    # of one event fire in name order: "_watched" after "_unpack", which takes the pack lock
    # before this takes the run's row lock, the order a packer takes them in (no deadlock).
    statements = [
        "CREATE FUNCTION tracklet_number_run() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  NEW.change_seq := nextval('{CHANGE_SEQUENCE}');\n"
        "  RETURN NEW;\n"
        "END $$",
        "CREATE FUNCTION tracklet_number_changed_runs() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  UPDATE runs SET change_seq = nextval('{CHANGE_SEQUENCE}')\n"
        "    WHERE run_uuid IN (SELECT DISTINCT run_uuid FROM changed);\n"
        "  RETURN NULL;\n"
        "END $$",
        "CREATE TRIGGER tr_runs_insert_watched BEFORE INSERT ON runs FOR EACH ROW"
        " EXECUTE FUNCTION tracklet_number_run()",
        f"CREATE TRIGGER tr_runs_update_watched BEFORE UPDATE OF {', '.join(_RUN_COLUMNS)}"
        " ON runs FOR EACH ROW WHEN ("
        + " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _RUN_COLUMNS)
        + ") EXECUTE FUNCTION tracklet_number_run()",
    ]
    return statements + [
        _part_trigger(dialect_name, table, event, skipping) for table, event in _parts(with_batches)
    ]


def drop_change_trigger_ddl(dialect_name: str, with_batches: bool = False) -> list[str]:
    """The statements dropping them (a downgrade)."""
    on = {"tr_runs_insert_watched": "runs", "tr_runs_update_watched": "runs"}
    for table, event in _parts(with_batches):
        on[f"tr_{table}_{event.lower()}_watched"] = table
    if dialect_name == "sqlite":
        return [f"DROP TRIGGER {name}" for name in on]
    return [f"DROP TRIGGER {name} ON {table}" for name, table in on.items()] + [
        "DROP FUNCTION tracklet_number_run()",
        "DROP FUNCTION tracklet_number_changed_runs()",
    ]


def batch_change_trigger_ddl(dialect_name: str) -> str:
    """The trigger migrations 0009-0011 numbered runs with at a wide batch's insert. On SQLite
    only if missing: pysqlite runs DDL outside the migration's transaction, so a downgrade that
    failed at an older step has created it already."""
    statement = _part_trigger(dialect_name, _BATCHES, "INSERT", skipping=False)
    if dialect_name == "sqlite":
        return statement.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1)
    return statement


def drop_batch_change_trigger_ddl(dialect_name: str) -> str:
    name = f"tr_{_BATCHES}_insert_watched"
    return f"DROP TRIGGER IF EXISTS {name}" + (
        "" if dialect_name == "sqlite" else f" ON {_BATCHES}"
    )


def _parts(with_batches: bool) -> list[tuple[str, str]]:
    parts = [(table, event) for table in _RUN_PARTS for event in ("INSERT", "UPDATE")]
    return [(_BATCHES, "INSERT"), *parts] if with_batches else parts


def _part_trigger(dialect_name: str, table: str, event: str, skipping: bool) -> str:
    name = f"tr_{table}_{event.lower()}_watched"
    if dialect_name == "sqlite":
        return (
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW BEGIN "
            + _SQLITE_BUMP.format(row="NEW")
            + " END"
        )
    # A statement numbering its run itself is skipped (``pack_triggers.BOOKKEPT_RUN``).
    when = f" {UNLESS_BOOKKEPT}" if skipping and skippable(table, event) else ""
    return (
        f"CREATE TRIGGER {name} AFTER {event} ON {table}"
        f" REFERENCING NEW TABLE AS changed FOR EACH STATEMENT{when}"
        " EXECUTE FUNCTION tracklet_number_changed_runs()"
    )
