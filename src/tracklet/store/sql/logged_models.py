"""Statements for logged models, their tags, params and metrics."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from tracklet.entities import (
    LifecycleStage,
    LoggedModel,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
)
from tracklet.exceptions import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST, MlflowException
from tracklet.store.sql.compiled import Compiled, Db, bp, expanding, insert_for, stmt
from tracklet.store.sql.schema import (
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
    next_creation_seq,
)

lm = logged_models.c
COLUMNS = (
    lm.model_id,
    lm.experiment_id,
    lm.name,
    lm.artifact_location,
    lm.creation_timestamp,
    lm.last_updated_timestamp,
    lm.model_type,
    lm.source_run_id,
    lm.status,
    lm.status_message,
    lm.lifecycle_stage,
)

_INSERT = Compiled(
    lambda dialect_name: logged_models.insert().values(
        creation_seq=next_creation_seq(logged_models, dialect_name),
        model_id=bp("model_id"),
        experiment_id=bp("experiment_id"),
        name=bp("name"),
        artifact_location=bp("artifact_location"),
        creation_timestamp=bp("now"),
        last_updated_timestamp=bp("now"),
        status=bp("status"),
        status_message=sa.null(),
        model_type=bp("model_type"),
        source_run_id=bp("source_run_id"),
        lifecycle_stage=bp("lifecycle_stage"),
    )
)
_BY_ID = stmt(lambda: sa.select(*COLUMNS).where(lm.model_id == bp("model_id")))
_SET_STATUS = stmt(
    lambda: (
        logged_models.update()
        .where(lm.model_id == bp("model_id"))
        .values(status=bp("status"), last_updated_timestamp=bp("now"))
    )
)
_TOUCH = stmt(
    lambda: (
        logged_models.update()
        .where(lm.model_id == bp("model_id"))
        .values(last_updated_timestamp=bp("now"))
    )
)
_SET_STAGE = stmt(
    lambda: (
        logged_models.update()
        .where(lm.model_id == bp("model_id"))
        .values(lifecycle_stage=bp("stage"), last_updated_timestamp=bp("now"))
    )
)


def _upsert(table: sa.Table) -> Compiled:
    def build(dialect_name: str) -> Any:
        insert = insert_for(dialect_name)(table).values(
            model_id=bp("model_id"), key=bp("key"), value=bp("value")
        )
        return insert.on_conflict_do_update(
            index_elements=[table.c.model_id, table.c.key], set_={"value": insert.excluded.value}
        )

    return Compiled(build)


_UPSERT_TAG = _upsert(logged_model_tags)
_UPSERT_PARAM = _upsert(logged_model_params)
_DELETE_TAG = stmt(
    lambda: logged_model_tags.delete().where(
        logged_model_tags.c.model_id == bp("model_id"), logged_model_tags.c.key == bp("key")
    )
)
_TAGS = stmt(
    lambda: (
        sa.select(logged_model_tags.c.model_id, logged_model_tags.c.key, logged_model_tags.c.value)
        .where(logged_model_tags.c.model_id.in_(expanding("ids")))
        .order_by(logged_model_tags.c.key)
    )
)
_PARAMS = stmt(
    lambda: (
        sa.select(
            logged_model_params.c.model_id, logged_model_params.c.key, logged_model_params.c.value
        )
        .where(logged_model_params.c.model_id.in_(expanding("ids")))
        .order_by(logged_model_params.c.key)
    )
)
_METRICS = stmt(
    lambda: (
        sa.select(
            logged_model_metrics.c.model_id,
            logged_model_metrics.c.key,
            logged_model_metrics.c.value,
            logged_model_metrics.c.is_nan,
            logged_model_metrics.c.timestamp,
            logged_model_metrics.c.step,
            logged_model_metrics.c.run_uuid,
            logged_model_metrics.c.dataset_name,
            logged_model_metrics.c.dataset_digest,
        )
        .where(logged_model_metrics.c.model_id.in_(expanding("ids")))
        .order_by(logged_model_metrics.c.point_id)
    )
)
_INSERT_METRIC = stmt(
    lambda: logged_model_metrics.insert().values(
        model_id=bp("model_id"),
        key=bp("key"),
        value=bp("value"),
        is_nan=bp("is_nan"),
        timestamp=bp("timestamp"),
        step=bp("step"),
        run_uuid=bp("run_uuid"),
        dataset_name=bp("dataset_name"),
        dataset_digest=bp("dataset_digest"),
    )
)
_EXISTING_MODELS = stmt(lambda: sa.select(lm.model_id).where(lm.model_id.in_(expanding("ids"))))

_FORBIDDEN_NAME_CHARS = set("/:.%\"'")


def not_found(model_id: str) -> MlflowException:
    return MlflowException(f"Logged model with ID '{model_id}' not found.", RESOURCE_DOES_NOT_EXIST)


def validate_name(name: str) -> str:
    if not name:
        raise MlflowException("A logged model's name must not be empty.", INVALID_PARAMETER_VALUE)
    bad = sorted(set(name) & _FORBIDDEN_NAME_CHARS)
    if bad:
        raise MlflowException(
            f"Invalid logged model name {name!r}: it must not contain any of "
            f"{' '.join(sorted(_FORBIDDEN_NAME_CHARS))} (found {' '.join(bad)}).",
            INVALID_PARAMETER_VALUE,
        )
    return name


def insert(
    db: Db,
    model_id: str,
    experiment_id: int,
    name: str,
    artifact_location: str,
    model_type: str | None,
    source_run_id: str | None,
    tags: Sequence[LoggedModelTag],
    params: Sequence[LoggedModelParameter],
    now: int,
) -> None:
    db.execute(
        _INSERT,
        {
            "model_id": model_id,
            "experiment_id": experiment_id,
            "name": name,
            "artifact_location": artifact_location,
            "now": now,
            "status": LoggedModelStatus.PENDING.to_int(),
            "model_type": model_type,
            "source_run_id": source_run_id,
            "lifecycle_stage": LifecycleStage.ACTIVE,
        },
    )
    write_tags(db, model_id, tags)
    write_params(db, model_id, params)


def write_tags(db: Db, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
    db.executemany(
        _UPSERT_TAG, [{"model_id": model_id, "key": t.key, "value": t.value} for t in tags]
    )


def write_params(db: Db, model_id: str, params: Sequence[LoggedModelParameter]) -> None:
    db.executemany(
        _UPSERT_PARAM, [{"model_id": model_id, "key": p.key, "value": p.value} for p in params]
    )


def require(db: Db, model_id: str, allow_deleted: bool = False) -> Any:
    """The model's row; RESOURCE_DOES_NOT_EXIST if missing (or deleted, unless allowed)."""
    row = db.one(_BY_ID, {"model_id": model_id})
    if row is None or (row[10] != LifecycleStage.ACTIVE and not allow_deleted):
        raise not_found(model_id)
    return row


def set_status(db: Db, model_id: str, status: LoggedModelStatus, now: int) -> None:
    require(db, model_id)
    db.execute(_SET_STATUS, {"model_id": model_id, "status": status.to_int(), "now": now})


def touch(db: Db, model_id: str, now: int) -> None:
    db.execute(_TOUCH, {"model_id": model_id, "now": now})


def soft_delete(db: Db, model_id: str, now: int) -> None:
    require(db, model_id)
    db.execute(_SET_STAGE, {"model_id": model_id, "stage": LifecycleStage.DELETED, "now": now})


def delete_tag(db: Db, model_id: str, key: str) -> None:
    require(db, model_id)
    if not db.rowcount(_DELETE_TAG, {"model_id": model_id, "key": key}):
        raise MlflowException(
            f"No tag with key {key!r} found for model with ID {model_id!r}.",
            RESOURCE_DOES_NOT_EXIST,
        )


def existing_ids(db: Db, model_ids: Sequence[str]) -> set[str]:
    if not model_ids:
        return set()
    return {row[0] for row in db.execute_in(_EXISTING_MODELS, "ids", list(model_ids))}


def write_metrics(db: Db, run_id: str, metrics: Sequence[Metric]) -> None:
    """Record model-linked points (``metric.model_id`` set) against their models."""
    linked = [m for m in metrics if m.model_id]
    if not linked:
        return
    missing = {m.model_id for m in linked} - existing_ids(
        db, [m.model_id for m in linked if m.model_id]
    )
    if missing:
        raise not_found(sorted(m for m in missing if m)[0])
    db.executemany(
        _INSERT_METRIC,
        [
            {
                "model_id": m.model_id,
                "key": m.key,
                "value": None if m.value != m.value else m.value,
                "is_nan": m.value != m.value,
                "timestamp": m.timestamp,
                "step": m.step,
                "run_uuid": run_id,
                "dataset_name": m.dataset_name,
                "dataset_digest": m.dataset_digest,
            }
            for m in linked
        ],
    )


def to_entities(db: Db, rows: Sequence[Any]) -> list[LoggedModel]:
    """Logged models from rows of ``COLUMNS``, with tags, params and metrics."""
    ids = [row[0] for row in rows]
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    metrics: dict[str, list[Metric]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for model_id, key, value in db.execute_in(_TAGS, "ids", chunk).fetchall():
            tags[model_id][key] = value
        for model_id, key, value in db.execute_in(_PARAMS, "ids", chunk).fetchall():
            params[model_id][key] = value
        for row in db.execute_in(_METRICS, "ids", chunk).fetchall():
            metrics[row[0]].append(
                Metric(
                    key=row[1],
                    value=math.nan if row[3] else float(row[2]),
                    timestamp=row[4],
                    step=row[5],
                    dataset_name=row[7],
                    dataset_digest=row[8],
                    model_id=row[0],
                    run_id=row[6],
                )
            )
    return [
        LoggedModel(
            model_id=row[0],
            experiment_id=str(row[1]),
            name=row[2],
            artifact_location=row[3],
            creation_timestamp=row[4],
            last_updated_timestamp=row[5],
            model_type=row[6],
            source_run_id=row[7],
            status=LoggedModelStatus.from_any(row[8]),
            status_message=row[9],
            tags=tags[row[0]],
            params=params[row[0]],
            metrics=metrics[row[0]],
        )
        for row in rows
    ]
