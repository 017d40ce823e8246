"""Core statements for params, tags and batched run data."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tracklet.entities import Param, RunTag
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.store.sql import runs as run_queries
from tracklet.store.sql.schema import params, runs, tags


def param_conflict(run_id: str, key: str, old: str, new: str) -> MlflowException:
    return MlflowException(
        f"Changing param values is not allowed. Param with key='{key}' was already logged with "
        f"value='{old}' for run ID='{run_id}'. Attempted logging new value '{new}'.",
        INVALID_PARAMETER_VALUE,
    )


def existing_param_value(conn: Connection, run_id: str, key: str) -> str | None:
    return conn.execute(
        sa.select(params.c.value).where(params.c.run_uuid == run_id, params.c.key == key)
    ).scalar()


def explain_param_not_written(conn: Connection, run_id: str, param: Param) -> None:
    """The guarded insert wrote nothing: say why, or return if the same value is there."""
    run_queries.require_active(conn, run_id)
    old = existing_param_value(conn, run_id, param.key)
    if old is not None and old != param.value:
        raise param_conflict(run_id, param.key, old, param.value)


def write_params(conn: Connection, run_id: str, new_params: Sequence[Param]) -> None:
    """Insert params, after checking all of them against values logged before."""
    if not new_params:
        return
    keys = [p.key for p in new_params]
    existing: dict[str, str] = {}
    for start in range(0, len(keys), 500):
        rows = conn.execute(
            sa.select(params.c.key, params.c.value).where(
                params.c.run_uuid == run_id, params.c.key.in_(keys[start : start + 500])
            )
        )
        existing.update({key: value for key, value in rows})
    conflicts = [p for p in new_params if p.key in existing and existing[p.key] != p.value]
    if len(conflicts) == 1:
        p = conflicts[0]
        raise param_conflict(run_id, p.key, existing[p.key], p.value)
    if conflicts:
        described = ", ".join(
            f"key='{p.key}' (logged '{existing[p.key]}', attempted '{p.value}')" for p in conflicts
        )
        raise MlflowException(
            f"Changing param values is not allowed. Params were already logged with other "
            f"values for run ID='{run_id}': {described}.",
            INVALID_PARAMETER_VALUE,
        )
    fresh = [
        {"run_uuid": run_id, "key": p.key, "value": p.value}
        for p in new_params
        if p.key not in existing
    ]
    if fresh:
        conn.execute(params.insert(), fresh)


def write_tags(conn: Connection, run_id: str, new_tags: Sequence[RunTag]) -> None:
    """Upsert tags (last value wins); ``mlflow.runName`` also renames the run."""
    if not new_tags:
        return
    latest = {t.key: t.value for t in new_tags}
    keys = list(latest)
    present: set[str] = set()
    for start in range(0, len(keys), 500):
        present.update(
            conn.execute(
                sa.select(tags.c.key).where(
                    tags.c.run_uuid == run_id, tags.c.key.in_(keys[start : start + 500])
                )
            ).scalars()
        )
    updates = [{"k": k, "v": v} for k, v in latest.items() if k in present]
    inserts = [{"run_uuid": run_id, "key": k, "value": v} for k, v in latest.items() if k not in present]
    if updates:
        conn.execute(
            tags.update()
            .where(tags.c.run_uuid == run_id, tags.c.key == sa.bindparam("k"))
            .values(value=sa.bindparam("v")),
            updates,
        )
    if inserts:
        conn.execute(tags.insert(), inserts)
    if run_queries.RUN_NAME_TAG in latest:
        rename_run(conn, run_id, latest[run_queries.RUN_NAME_TAG])


def rename_run(conn: Connection, run_id: str, name: str) -> None:
    conn.execute(runs.update().where(runs.c.run_uuid == run_id).values(name=name))
