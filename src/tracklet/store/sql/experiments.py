"""Statements for experiments and their tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from tracklet.entities import Experiment, ExperimentTag, LifecycleStage
from tracklet.exceptions import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)
from tracklet.store.sql.compiled import Compiled, Db, bp, expanding, insert_for, stmt
from tracklet.store.sql.schema import experiment_tags, experiments, runs
from tracklet.uri import append_to_uri_path

e, et = experiments.c, experiment_tags.c
COLUMNS = (
    e.experiment_id,
    e.name,
    e.artifact_location,
    e.lifecycle_stage,
    e.creation_time,
    e.last_update_time,
)

_BY_ID = stmt(lambda: sa.select(*COLUMNS).where(e.experiment_id == bp("experiment_id")))
_BY_NAME = stmt(lambda: sa.select(*COLUMNS).where(e.name == bp("name")))
_ID_BY_NAME = stmt(lambda: sa.select(e.experiment_id).where(e.name == bp("name")))
_STAGE = stmt(
    lambda: sa.select(e.lifecycle_stage, e.artifact_location).where(
        e.experiment_id == bp("experiment_id")
    )
)
_INSERT = stmt(
    lambda: (
        experiments.insert()
        .values(
            name=bp("name"),
            artifact_location=bp("artifact_location"),
            lifecycle_stage=bp("lifecycle_stage"),
            creation_time=bp("now"),
            last_update_time=bp("now"),
        )
        .returning(e.experiment_id)
    )
)
_SET_LOCATION = stmt(
    lambda: (
        experiments.update()
        .where(e.experiment_id == bp("experiment_id"))
        .values(artifact_location=bp("artifact_location"))
    )
)
_RENAME = stmt(
    lambda: (
        experiments.update()
        .where(e.experiment_id == bp("experiment_id"))
        .values(name=bp("name"), last_update_time=bp("now"))
    )
)
_SET_STAGE = stmt(
    lambda: (
        experiments.update()
        .where(e.experiment_id == bp("experiment_id"))
        .values(lifecycle_stage=bp("stage"), last_update_time=bp("now"))
    )
)
_SET_RUNS_STAGE = stmt(
    lambda: (
        runs.update()
        .where(runs.c.experiment_id == bp("experiment_id"))
        .values(lifecycle_stage=bp("stage"), deleted_time=bp("deleted_time"))
    )
)
_TAGS = stmt(
    lambda: (
        sa.select(et.experiment_id, et.key, et.value)
        .where(et.experiment_id.in_(expanding("ids")))
        .order_by(et.experiment_id, et.key)
    )
)
_INSERT_TAG = stmt(
    lambda: experiment_tags.insert().values(
        experiment_id=bp("experiment_id"), key=bp("key"), value=bp("value")
    )
)


def _upsert_tag(dialect_name: str) -> Any:
    insert = insert_for(dialect_name)(experiment_tags).values(
        experiment_id=bp("experiment_id"), key=bp("key"), value=bp("value")
    )
    return insert.on_conflict_do_update(
        index_elements=[et.experiment_id, et.key], set_={"value": insert.excluded.value}
    )


_UPSERT_TAG = Compiled(_upsert_tag)
_DELETE_TAG = stmt(
    lambda: experiment_tags.delete().where(
        et.experiment_id == bp("experiment_id"), et.key == bp("key")
    )
)


def not_found(experiment_id: object) -> MlflowException:
    return MlflowException(f"No Experiment with id={experiment_id} exists", RESOURCE_DOES_NOT_EXIST)


def already_exists(name: str) -> MlflowException:
    return MlflowException(f"Experiment(name={name}) already exists.", RESOURCE_ALREADY_EXISTS)


def not_active(experiment_id: object, stage: str) -> MlflowException:
    return MlflowException(
        f"The experiment {experiment_id} must be in the 'active' state. Current state is {stage}.",
        INVALID_PARAMETER_VALUE,
    )


def insert(
    db: Db,
    name: str,
    artifact_location: str | None,
    tags: Sequence[ExperimentTag],
    artifact_root: str,
    now: int,
) -> int:
    """Insert an experiment; its artifact location defaults to ``<artifact_root>/<id>``."""
    if db.one(_ID_BY_NAME, {"name": name}) is not None:
        raise already_exists(name)
    experiment_id = int(
        db.scalar(
            _INSERT,
            {
                "name": name,
                "artifact_location": artifact_location,
                "lifecycle_stage": LifecycleStage.ACTIVE,
                "now": now,
            },
        )
    )
    if not artifact_location:
        db.execute(
            _SET_LOCATION,
            {
                "experiment_id": experiment_id,
                "artifact_location": append_to_uri_path(artifact_root, str(experiment_id)),
            },
        )
    db.executemany(
        _INSERT_TAG,
        [{"experiment_id": experiment_id, "key": t.key, "value": t.value} for t in tags],
    )
    return experiment_id


def to_entities(db: Db, rows: Sequence[Any]) -> list[Experiment]:
    """Experiments from rows of ``COLUMNS``, with their tags."""
    ids = [row[0] for row in rows]
    tags: dict[int, dict[str, str]] = {i: {} for i in ids}
    if ids:
        for experiment_id, key, value in db.execute_in(_TAGS, "ids", ids).fetchall():
            tags[experiment_id][key] = value
    return [
        Experiment(
            experiment_id=str(row[0]),
            name=row[1],
            artifact_location=row[2],
            lifecycle_stage=row[3],
            tags=tags[row[0]],
            creation_time=row[4],
            last_update_time=row[5],
        )
        for row in rows
    ]


def get(db: Db, experiment_id: int) -> Experiment | None:
    rows = db.all(_BY_ID, {"experiment_id": experiment_id})
    return to_entities(db, rows)[0] if rows else None


def get_by_name(db: Db, name: str) -> Experiment | None:
    rows = db.all(_BY_NAME, {"name": name})
    return to_entities(db, rows)[0] if rows else None


def require_active(db: Db, experiment_id: int) -> str:
    """Raise unless the experiment exists and is active; returns its artifact location."""
    row = db.one(_STAGE, {"experiment_id": experiment_id})
    if row is None:
        raise not_found(experiment_id)
    if row[0] != LifecycleStage.ACTIVE:
        raise not_active(experiment_id, row[0])
    return str(row[1])


def rename(db: Db, experiment_id: int, new_name: str, now: int) -> None:
    require_active(db, experiment_id)
    holder = db.scalar(_ID_BY_NAME, {"name": new_name})
    if holder == experiment_id:
        return
    if holder is not None:
        raise already_exists(new_name)
    db.execute(_RENAME, {"experiment_id": experiment_id, "name": new_name, "now": now})


def set_stage(db: Db, experiment_id: int, stage: str, now: int, deleted_time: int | None) -> None:
    """Soft-delete or restore an experiment and, as MLflow does, every run in it."""
    row = db.one(_STAGE, {"experiment_id": experiment_id})
    if row is None:
        raise not_found(experiment_id)
    expected = LifecycleStage.ACTIVE if stage == LifecycleStage.DELETED else LifecycleStage.DELETED
    if row[0] != expected:
        # MLflow answers 404 for deleting a deleted (or restoring an active) experiment.
        verb = "delete" if stage == LifecycleStage.DELETED else "restore"
        raise MlflowException(
            f"Cannot {verb} experiment {experiment_id}: it is already {row[0]}.",
            RESOURCE_DOES_NOT_EXIST,
        )
    db.execute(_SET_STAGE, {"experiment_id": experiment_id, "stage": stage, "now": now})
    db.execute(
        _SET_RUNS_STAGE,
        {"experiment_id": experiment_id, "stage": stage, "deleted_time": deleted_time},
    )


def set_tag(db: Db, experiment_id: int, key: str, value: str) -> None:
    require_active(db, experiment_id)
    db.execute(_UPSERT_TAG, {"experiment_id": experiment_id, "key": key, "value": value})


def delete_tag(db: Db, experiment_id: int, key: str) -> None:
    require_active(db, experiment_id)
    if not db.rowcount(_DELETE_TAG, {"experiment_id": experiment_id, "key": key}):
        raise MlflowException(
            f"No tag with name: {key} in experiment with id {experiment_id}",
            RESOURCE_DOES_NOT_EXIST,
        )
