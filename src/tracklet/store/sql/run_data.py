"""Statements for params and tags, single and batched."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from tracklet.entities import LifecycleStage, Param, RunTag
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.store.sql import runs as run_queries
from tracklet.store.sql.compiled import Compiled, Db, bp, expanding, insert_for, literal, stmt
from tracklet.store.sql.schema import params, runs, tags

_RUN_IS_ACTIVE = runs.c.lifecycle_stage == literal(f"'{LifecycleStage.ACTIVE}'")


def _from_active_run(table: sa.Table) -> Any:
    """SELECT (run, :key, :value) FROM the run only if it is active: a single statement both
    checks the run and writes, so the common case costs one round trip."""
    return sa.select(runs.c.run_uuid, bp("key", sa.String), bp("value", sa.String)).where(
        runs.c.run_uuid == bp("run_uuid"), _RUN_IS_ACTIVE
    )


# rowcount 0: the run is not active, or the param exists already (the caller finds out which).
INSERT_PARAM_GUARDED = Compiled(
    lambda d: (
        insert_for(d)(params)
        .from_select(["run_uuid", "key", "value"], _from_active_run(params))
        .on_conflict_do_nothing(index_elements=[params.c.run_uuid, params.c.key])
    )
)


def _upsert_tag_guarded(dialect_name: str) -> Any:
    insert = insert_for(dialect_name)(tags).from_select(
        ["run_uuid", "key", "value"], _from_active_run(tags)
    )
    return insert.on_conflict_do_update(
        index_elements=[tags.c.run_uuid, tags.c.key], set_={"value": insert.excluded.value}
    )


# rowcount 0: the run is not active.
UPSERT_TAG_GUARDED = Compiled(_upsert_tag_guarded)

_PARAMS_OF_RUN = stmt(
    lambda: sa.select(params.c.key, params.c.value).where(
        params.c.run_uuid == bp("run_uuid"), params.c.key.in_(expanding("keys"))
    )
)
_PARAM_VALUE = stmt(
    lambda: sa.select(params.c.value).where(
        params.c.run_uuid == bp("run_uuid"), params.c.key == bp("key")
    )
)
_INSERT_PARAM = stmt(
    lambda: params.insert().values(run_uuid=bp("run_uuid"), key=bp("key"), value=bp("value"))
)


def param_conflict(run_id: str, key: str, old: str, new: str) -> MlflowException:
    return MlflowException(
        f"Changing param values is not allowed. Param with key='{key}' was already logged with "
        f"value='{old}' for run ID='{run_id}'. Attempted logging new value '{new}'.",
        INVALID_PARAMETER_VALUE,
    )


def explain_param_not_written(db: Db, run_id: str, param: Param) -> None:
    """The guarded insert wrote nothing: say why, or return if the same value is there."""
    run_queries.require_active(db, run_id)
    old = db.scalar(_PARAM_VALUE, {"run_uuid": run_id, "key": param.key})
    if old is not None and old != param.value:
        raise param_conflict(run_id, param.key, old, param.value)


def write_params(db: Db, run_id: str, new_params: Sequence[Param]) -> None:
    """Insert params, after checking all of them against values logged before."""
    if not new_params:
        return
    keys = [p.key for p in new_params]
    existing: dict[str, str] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        existing.update(db.execute_in(_PARAMS_OF_RUN, "keys", chunk, {"run_uuid": run_id}))
    conflicts = [p for p in new_params if p.key in existing and existing[p.key] != p.value]
    if len(conflicts) == 1:
        p = conflicts[0]
        raise param_conflict(run_id, p.key, existing[p.key], p.value)
    if conflicts:
        described = ", ".join(
            f"key='{p.key}' (logged '{existing[p.key]}', attempted '{p.value}')" for p in conflicts
        )
        raise MlflowException(
            "Changing param values is not allowed. Params were already logged with other "
            f"values for run ID='{run_id}': {described}.",
            INVALID_PARAMETER_VALUE,
        )
    db.executemany(
        _INSERT_PARAM,
        [
            {"run_uuid": run_id, "key": p.key, "value": p.value}
            for p in new_params
            if p.key not in existing
        ],
    )


def write_tags(db: Db, run_id: str, new_tags: Sequence[RunTag]) -> None:
    """Upsert tags (last value wins); ``mlflow.runName`` also renames the run."""
    latest = {t.key: t.value for t in new_tags}
    name = latest.pop(run_queries.RUN_NAME_TAG, None)
    db.executemany(
        run_queries.UPSERT_TAG,
        [{"run_uuid": run_id, "key": k, "value": v} for k, v in latest.items()],
    )
    if name is not None:
        run_queries.rename(db, run_id, name)
