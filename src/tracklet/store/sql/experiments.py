"""Core statements for experiments and their tags."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tracklet.entities import Experiment, ExperimentTag, LifecycleStage
from tracklet.exceptions import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)
from tracklet.store.sql.schema import experiment_tags, experiments, runs

_COLUMNS = (
    experiments.c.experiment_id,
    experiments.c.name,
    experiments.c.artifact_location,
    experiments.c.lifecycle_stage,
    experiments.c.creation_time,
    experiments.c.last_update_time,
)


def not_found(experiment_id: object) -> MlflowException:
    return MlflowException(
        f"No Experiment with id={experiment_id} exists", RESOURCE_DOES_NOT_EXIST
    )


def already_exists(name: str) -> MlflowException:
    return MlflowException(f"Experiment(name={name}) already exists.", RESOURCE_ALREADY_EXISTS)


def not_active(experiment_id: object, stage: str) -> MlflowException:
    return MlflowException(
        f"The experiment {experiment_id} must be in the 'active' state. Current state is "
        f"{stage}.",
        INVALID_PARAMETER_VALUE,
    )


def name_exists(conn: Connection, name: str) -> bool:
    return (
        conn.execute(
            sa.select(experiments.c.experiment_id).where(experiments.c.name == name)
        ).first()
        is not None
    )


def insert(
    conn: Connection,
    name: str,
    artifact_location: str | None,
    tags: Sequence[ExperimentTag],
    artifact_root: str,
    now: int,
) -> int:
    """Insert an experiment; its artifact location defaults to ``<artifact_root>/<id>``."""
    if name_exists(conn, name):
        raise already_exists(name)
    experiment_id = conn.execute(
        experiments.insert()
        .values(
            name=name,
            artifact_location=artifact_location,
            lifecycle_stage=LifecycleStage.ACTIVE,
            creation_time=now,
            last_update_time=now,
        )
        .returning(experiments.c.experiment_id)
    ).scalar_one()
    if not artifact_location:
        conn.execute(
            experiments.update()
            .where(experiments.c.experiment_id == experiment_id)
            .values(artifact_location=f"{artifact_root.rstrip('/')}/{experiment_id}")
        )
    if tags:
        conn.execute(
            experiment_tags.insert(),
            [{"experiment_id": experiment_id, "key": t.key, "value": t.value} for t in tags],
        )
    return int(experiment_id)


def _tags_by_experiment(conn: Connection, ids: Iterable[int]) -> dict[int, dict[str, str]]:
    ids = list(ids)
    result: dict[int, dict[str, str]] = {i: {} for i in ids}
    if not ids:
        return result
    rows = conn.execute(
        sa.select(experiment_tags.c.experiment_id, experiment_tags.c.key, experiment_tags.c.value)
        .where(experiment_tags.c.experiment_id.in_(ids))
        .order_by(experiment_tags.c.experiment_id, experiment_tags.c.key)
    )
    for experiment_id, key, value in rows:
        result[experiment_id][key] = value
    return result


def to_entities(conn: Connection, rows: Sequence[Any]) -> list[Experiment]:
    tags = _tags_by_experiment(conn, (row.experiment_id for row in rows))
    return [
        Experiment(
            experiment_id=str(row.experiment_id),
            name=row.name,
            artifact_location=row.artifact_location,
            lifecycle_stage=row.lifecycle_stage,
            tags=tags[row.experiment_id],
            creation_time=row.creation_time,
            last_update_time=row.last_update_time,
        )
        for row in rows
    ]


def get(conn: Connection, experiment_id: int) -> Experiment | None:
    rows = conn.execute(
        sa.select(*_COLUMNS).where(experiments.c.experiment_id == experiment_id)
    ).all()
    return to_entities(conn, rows)[0] if rows else None


def get_by_name(conn: Connection, name: str) -> Experiment | None:
    rows = conn.execute(sa.select(*_COLUMNS).where(experiments.c.name == name)).all()
    return to_entities(conn, rows)[0] if rows else None


def stage_of(conn: Connection, experiment_id: int) -> str | None:
    return conn.execute(
        sa.select(experiments.c.lifecycle_stage).where(
            experiments.c.experiment_id == experiment_id
        )
    ).scalar()


def require_active(conn: Connection, experiment_id: int) -> None:
    stage = stage_of(conn, experiment_id)
    if stage is None:
        raise not_found(experiment_id)
    if stage != LifecycleStage.ACTIVE:
        raise not_active(experiment_id, stage)


def rename(conn: Connection, experiment_id: int, new_name: str, now: int) -> None:
    require_active(conn, experiment_id)
    current = conn.execute(
        sa.select(experiments.c.name).where(experiments.c.experiment_id == experiment_id)
    ).scalar()
    if current == new_name:
        return
    if name_exists(conn, new_name):
        raise already_exists(new_name)
    conn.execute(
        experiments.update()
        .where(experiments.c.experiment_id == experiment_id)
        .values(name=new_name, last_update_time=now)
    )


def set_stage(
    conn: Connection, experiment_id: int, stage: str, now: int, deleted_time: int | None
) -> None:
    """Soft-delete or restore an experiment and, as MLflow does, every run in it."""
    current = stage_of(conn, experiment_id)
    wanted_before = LifecycleStage.ACTIVE if stage == LifecycleStage.DELETED else LifecycleStage.DELETED
    if current is None or current != wanted_before:
        # MLflow answers 404 for deleting a deleted (or restoring an active) experiment.
        raise MlflowException(
            f"No Experiment with id={experiment_id} exists"
            if current is None
            else f"Cannot {'delete' if stage == LifecycleStage.DELETED else 'restore'} "
            f"experiment {experiment_id}: it is already {current}.",
            RESOURCE_DOES_NOT_EXIST,
        )
    conn.execute(
        experiments.update()
        .where(experiments.c.experiment_id == experiment_id)
        .values(lifecycle_stage=stage, last_update_time=now)
    )
    conn.execute(
        runs.update()
        .where(runs.c.experiment_id == experiment_id)
        .values(lifecycle_stage=stage, deleted_time=deleted_time)
    )


def set_tag(conn: Connection, experiment_id: int, key: str, value: str) -> None:
    require_active(conn, experiment_id)
    updated = conn.execute(
        experiment_tags.update()
        .where(experiment_tags.c.experiment_id == experiment_id, experiment_tags.c.key == key)
        .values(value=value)
    ).rowcount
    if not updated:
        conn.execute(
            experiment_tags.insert().values(experiment_id=experiment_id, key=key, value=value)
        )


def delete_tag(conn: Connection, experiment_id: int, key: str) -> None:
    require_active(conn, experiment_id)
    deleted = conn.execute(
        experiment_tags.delete().where(
            experiment_tags.c.experiment_id == experiment_id, experiment_tags.c.key == key
        )
    ).rowcount
    if not deleted:
        raise MlflowException(
            f"No tag with name: {key} in experiment with id {experiment_id}",
            RESOURCE_DOES_NOT_EXIST,
        )


def select_columns() -> tuple[Any, ...]:
    return _COLUMNS
