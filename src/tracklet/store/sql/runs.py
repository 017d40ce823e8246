"""Statements for runs: creating, reading whole runs, updating and soft deletion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from tracklet import validation
from tracklet.entities import (
    LifecycleStage,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
)
from tracklet.entities._base import fast_constructor
from tracklet.exceptions import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST, MlflowException
from tracklet.store.sql.compiled import Compiled, Db, bp, insert_for, literal, stmt
from tracklet.store.sql.run_parts import load_runs
from tracklet.store.sql.schema import (
    next_creation_seq,
    runs,
    tags,
)

RUN_NAME_TAG = "mlflow.runName"

r = runs.c
INFO_COLUMNS = (
    r.run_uuid,
    r.experiment_id,
    r.name,
    r.user_id,
    r.status,
    r.start_time,
    r.end_time,
    r.lifecycle_stage,
    r.artifact_uri,
)

_INFO = stmt(lambda: sa.select(*INFO_COLUMNS).where(r.run_uuid == bp("run_uuid")))
_INFO_AND_PACK = stmt(lambda: sa.select(*INFO_COLUMNS, r.pack).where(r.run_uuid == bp("run_uuid")))
_STAGE = stmt(lambda: sa.select(r.lifecycle_stage).where(r.run_uuid == bp("run_uuid")))
_INSERT = Compiled(
    lambda dialect_name: runs.insert().values(
        creation_seq=next_creation_seq(runs, dialect_name),
        run_uuid=bp("run_uuid"),
        experiment_id=bp("experiment_id"),
        name=bp("name"),
        user_id=bp("user_id"),
        status=bp("status"),
        start_time=bp("start_time"),
        end_time=sa.null(),
        deleted_time=sa.null(),
        lifecycle_stage=bp("lifecycle_stage"),
        artifact_uri=bp("artifact_uri"),
    )
)
_INSERT_TAG = stmt(
    lambda: tags.insert().values(run_uuid=bp("run_uuid"), key=bp("key"), value=bp("value"))
)


def _upsert_tag(dialect_name: str) -> Any:
    insert = insert_for(dialect_name)(tags).values(
        run_uuid=bp("run_uuid"), key=bp("key"), value=bp("value")
    )
    return insert.on_conflict_do_update(
        index_elements=[tags.c.run_uuid, tags.c.key], set_={"value": insert.excluded.value}
    )


UPSERT_TAG = Compiled(_upsert_tag)
_DELETE_TAG = stmt(
    lambda: tags.delete().where(tags.c.run_uuid == bp("run_uuid"), tags.c.key == bp("key"))
)
_SET_STAGE = stmt(
    lambda: (
        runs.update()
        .where(r.run_uuid == bp("run_uuid"))
        .values(lifecycle_stage=bp("stage"), deleted_time=bp("deleted_time"))
    )
)
_SET_NAME = stmt(lambda: runs.update().where(r.run_uuid == bp("run_uuid")).values(name=bp("name")))
_RUN_IS_ACTIVE = r.lifecycle_stage == literal(f"'{LifecycleStage.ACTIVE}'")
# Update an active run and return its info in one statement; no row if it is not active.


def _update_returning_info(fields: tuple[str, ...]) -> Compiled:
    return stmt(
        lambda: (
            runs.update()
            .where(r.run_uuid == bp("run_uuid"), _RUN_IS_ACTIVE)
            .values({f: bp(f) for f in fields})
            .returning(*INFO_COLUMNS)
        )
    )


_UPDATE: dict[tuple[str, ...], Compiled] = {
    fields: _update_returning_info(fields)
    for fields in (("status",), ("end_time",), ("status", "end_time"))
}


def not_found(run_id: str) -> MlflowException:
    return MlflowException(f"Run with id={run_id} not found", RESOURCE_DOES_NOT_EXIST)


def not_active(run_id: str, stage: str) -> MlflowException:
    return MlflowException(
        f"The run {run_id} must be in the 'active' state. Current state is {stage}.",
        INVALID_PARAMETER_VALUE,
    )


def stage_of(db: Db, run_id: str) -> str | None:
    stage = db.scalar(_STAGE, {"run_uuid": run_id})
    return None if stage is None else str(stage)


def require_active(db: Db, run_id: str) -> None:
    stage = stage_of(db, run_id)
    if stage is None:
        raise not_found(run_id)
    if stage != LifecycleStage.ACTIVE:
        raise not_active(run_id, stage)


def insert(
    db: Db,
    run_id: str,
    experiment_id: int,
    user_id: str,
    start_time: int,
    run_name: str,
    artifact_uri: str,
    run_tags: Sequence[RunTag],
) -> None:
    validation.validate_run_name(run_name)
    db.execute(
        _INSERT,
        {
            "run_uuid": run_id,
            "experiment_id": experiment_id,
            "name": run_name,
            "user_id": user_id,
            "status": RunStatus.RUNNING.name,
            "start_time": start_time,
            "lifecycle_stage": LifecycleStage.ACTIVE,
            "artifact_uri": artifact_uri,
        },
    )
    db.executemany(
        _INSERT_TAG, [{"run_uuid": run_id, "key": t.key, "value": t.value} for t in run_tags]
    )


# Search pages build many infos: skip the generated frozen __init__.
_new_info = fast_constructor(RunInfo)


def info_from_row(row: Sequence[Any]) -> RunInfo:
    """A RunInfo from a row of ``INFO_COLUMNS``."""
    return _new_info(
        row[0], str(row[1]), row[3] or "", row[4], row[5], row[6], row[7], row[8], row[2]
    )


def get_info(db: Db, run_id: str) -> RunInfo:
    row = db.one(_INFO, {"run_uuid": run_id})
    if row is None:
        raise not_found(run_id)
    return info_from_row(row)


def get_run(db: Db, run_id: str) -> Run:
    row = db.one(_INFO_AND_PACK, {"run_uuid": run_id})
    if row is None:
        raise not_found(run_id)
    return load_runs(db, [info_from_row(row)], [row[-1]])[0]


def update_info(
    db: Db,
    run_id: str,
    status: str | None,
    end_time: int | None,
    run_name: str | None,
) -> RunInfo:
    """Set status, end time and name of an active run; one statement unless renaming."""
    fields = tuple(
        name for name, value in (("status", status), ("end_time", end_time)) if value is not None
    )
    row = None
    if fields:
        row = db.one(_UPDATE[fields], {"run_uuid": run_id, "status": status, "end_time": end_time})
        if row is None:
            require_active(db, run_id)
    else:
        require_active(db, run_id)
    if run_name:
        rename(db, run_id, run_name)
        row = None
    return info_from_row(row) if row is not None else get_info(db, run_id)


def rename(db: Db, run_id: str, name: str) -> None:
    """Set the run's name and its ``mlflow.runName`` tag together."""
    validation.validate_run_name(name)
    db.execute(_SET_NAME, {"run_uuid": run_id, "name": name})
    db.execute(UPSERT_TAG, {"run_uuid": run_id, "key": RUN_NAME_TAG, "value": name})


def set_stage(db: Db, run_id: str, stage: str, deleted_time: int | None) -> None:
    if stage_of(db, run_id) is None:
        raise not_found(run_id)
    db.execute(_SET_STAGE, {"run_uuid": run_id, "stage": stage, "deleted_time": deleted_time})


def delete_tag(db: Db, run_id: str, key: str) -> None:
    require_active(db, run_id)
    if not db.rowcount(_DELETE_TAG, {"run_uuid": run_id, "key": key}):
        raise MlflowException(
            f"No tag with name: {key} in run with id {run_id}", RESOURCE_DOES_NOT_EXIST
        )
