"""Core statements for runs: creating, reading whole runs, updating and soft deletion."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tracklet.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LifecycleStage,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    RunTag,
)
from tracklet.exceptions import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST, MlflowException
from tracklet.store.sql.schema import (
    datasets,
    input_tags,
    latest_metrics,
    params,
    run_dataset_inputs,
    run_model_inputs,
    run_model_outputs,
    runs,
    tags,
)

RUN_NAME_TAG = "mlflow.runName"

INFO_COLUMNS = (
    runs.c.run_uuid,
    runs.c.experiment_id,
    runs.c.name,
    runs.c.user_id,
    runs.c.status,
    runs.c.start_time,
    runs.c.end_time,
    runs.c.lifecycle_stage,
    runs.c.artifact_uri,
)


def not_found(run_id: str) -> MlflowException:
    return MlflowException(f"Run with id={run_id} not found", RESOURCE_DOES_NOT_EXIST)


def not_active(run_id: str, stage: str) -> MlflowException:
    return MlflowException(
        f"The run {run_id} must be in the 'active' state. Current state is {stage}.",
        INVALID_PARAMETER_VALUE,
    )


def stage_of(conn: Connection, run_id: str) -> str | None:
    return conn.execute(
        sa.select(runs.c.lifecycle_stage).where(runs.c.run_uuid == run_id)
    ).scalar()


def require_active(conn: Connection, run_id: str) -> None:
    stage = stage_of(conn, run_id)
    if stage is None:
        raise not_found(run_id)
    if stage != LifecycleStage.ACTIVE:
        raise not_active(run_id, stage)


def insert(
    conn: Connection,
    run_id: str,
    experiment_id: int,
    user_id: str,
    start_time: int,
    run_name: str,
    artifact_uri: str,
    run_tags: Sequence[RunTag],
) -> None:
    conn.execute(
        runs.insert().values(
            run_uuid=run_id,
            experiment_id=experiment_id,
            name=run_name,
            user_id=user_id,
            status=RunStatus.RUNNING.name,
            start_time=start_time,
            end_time=None,
            deleted_time=None,
            lifecycle_stage=LifecycleStage.ACTIVE,
            artifact_uri=artifact_uri,
        )
    )
    if run_tags:
        conn.execute(
            tags.insert(), [{"run_uuid": run_id, "key": t.key, "value": t.value} for t in run_tags]
        )


def info_from_row(row: Any) -> RunInfo:
    return RunInfo(
        run_id=row.run_uuid,
        experiment_id=str(row.experiment_id),
        user_id=row.user_id or "",
        status=row.status,
        start_time=row.start_time,
        end_time=row.end_time,
        lifecycle_stage=row.lifecycle_stage,
        artifact_uri=row.artifact_uri,
        run_name=row.name,
    )


def get_info(conn: Connection, run_id: str) -> RunInfo:
    row = conn.execute(sa.select(*INFO_COLUMNS).where(runs.c.run_uuid == run_id)).first()
    if row is None:
        raise not_found(run_id)
    return info_from_row(row)


def load_runs(conn: Connection, infos: Sequence[RunInfo]) -> list[Run]:
    """Whole runs (data, inputs, outputs) for these infos, in a fixed number of queries."""
    if not infos:
        return []
    ids = [info.run_id for info in infos]
    by_run: dict[str, dict[str, Any]] = {
        run_id: {"params": {}, "tags": {}, "metrics": [], "datasets": [], "models_in": [],
                 "models_out": []}
        for run_id in ids
    }
    for chunk in _chunks(ids):
        _load_params_tags(conn, chunk, by_run)
        _load_latest_metrics(conn, chunk, by_run)
        _load_inputs_outputs(conn, chunk, by_run)
    result = []
    for info in infos:
        parts = by_run[info.run_id]
        metric_objs = tuple(parts["metrics"])
        data = RunData(
            metrics={m.key: m.value for m in metric_objs},
            params=parts["params"],
            tags=parts["tags"],
            metric_objs=metric_objs,
        )
        result.append(
            Run(
                info=info,
                data=data,
                inputs=RunInputs(dataset_inputs=parts["datasets"], model_inputs=parts["models_in"]),
                outputs=RunOutputs(model_outputs=parts["models_out"]),
            )
        )
    return result


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    # Bound the number of bind parameters per IN list (SQLite allows 32766, but be modest).
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _load_params_tags(conn: Connection, ids: list[str], by_run: dict[str, dict[str, Any]]) -> None:
    for table, field in ((params, "params"), (tags, "tags")):
        rows = conn.execute(
            sa.select(table.c.run_uuid, table.c.key, table.c.value)
            .where(table.c.run_uuid.in_(ids))
            .order_by(table.c.run_uuid, table.c.key)
        )
        for run_id, key, value in rows:
            by_run[run_id][field][key] = value


def _load_latest_metrics(
    conn: Connection, ids: list[str], by_run: dict[str, dict[str, Any]]
) -> None:
    lm = latest_metrics.c
    rows = conn.execute(
        sa.select(lm.run_uuid, lm.key, lm.value, lm.is_nan, lm.timestamp, lm.step)
        .where(lm.run_uuid.in_(ids))
        .order_by(lm.run_uuid, lm.key)
    )
    for run_id, key, value, is_nan, timestamp, step in rows:
        by_run[run_id]["metrics"].append(
            Metric(
                key=key,
                value=math.nan if is_nan else float(value),
                timestamp=timestamp,
                step=step,
            )
        )


def _load_inputs_outputs(
    conn: Connection, ids: list[str], by_run: dict[str, dict[str, Any]]
) -> None:
    tag_rows = conn.execute(
        sa.select(input_tags.c.run_uuid, input_tags.c.dataset_uuid, input_tags.c.key,
                  input_tags.c.value)
        .where(input_tags.c.run_uuid.in_(ids))
        .order_by(input_tags.c.key)
    )
    input_tag_map: dict[tuple[str, str], list[InputTag]] = {}
    for run_id, dataset_uuid, key, value in tag_rows:
        input_tag_map.setdefault((run_id, dataset_uuid), []).append(InputTag(key, value))
    rdi, d = run_dataset_inputs.c, datasets.c
    rows = conn.execute(
        sa.select(rdi.run_uuid, d.dataset_uuid, d.name, d.digest, d.source_type, d.source,
                  d.schema, d.profile)
        .join_from(run_dataset_inputs, datasets, rdi.dataset_uuid == d.dataset_uuid)
        .where(rdi.run_uuid.in_(ids))
        .order_by(rdi.run_uuid, rdi.position)
    )
    for row in rows:
        dataset = Dataset(
            name=row.name,
            digest=row.digest,
            source_type=row.source_type,
            source=row.source,
            schema=row.schema,
            profile=row.profile,
        )
        by_run[row.run_uuid]["datasets"].append(
            DatasetInput(dataset, input_tag_map.get((row.run_uuid, row.dataset_uuid), []))
        )
    for run_id, model_id in conn.execute(
        sa.select(run_model_inputs.c.run_uuid, run_model_inputs.c.model_id)
        .where(run_model_inputs.c.run_uuid.in_(ids))
        .order_by(run_model_inputs.c.run_uuid, run_model_inputs.c.position)
    ):
        by_run[run_id]["models_in"].append(LoggedModelInput(model_id))
    for run_id, model_id, step in conn.execute(
        sa.select(run_model_outputs.c.run_uuid, run_model_outputs.c.model_id,
                  run_model_outputs.c.step)
        .where(run_model_outputs.c.run_uuid.in_(ids))
        .order_by(run_model_outputs.c.run_uuid, run_model_outputs.c.step,
                  run_model_outputs.c.model_id)
    ):
        by_run[run_id]["models_out"].append(LoggedModelOutput(model_id, step))


def get_run(conn: Connection, run_id: str) -> Run:
    return load_runs(conn, [get_info(conn, run_id)])[0]


def update_info(
    conn: Connection,
    run_id: str,
    status: str | None,
    end_time: int | None,
    run_name: str | None,
) -> RunInfo:
    require_active(conn, run_id)
    values: dict[str, Any] = {}
    if status is not None:
        values["status"] = status
    if end_time is not None:
        values["end_time"] = end_time
    if run_name:
        values["name"] = run_name
        upsert_tag(conn, run_id, RUN_NAME_TAG, run_name)
    if values:
        conn.execute(runs.update().where(runs.c.run_uuid == run_id).values(**values))
    return get_info(conn, run_id)


def upsert_tag(conn: Connection, run_id: str, key: str, value: str) -> None:
    updated = conn.execute(
        tags.update().where(tags.c.run_uuid == run_id, tags.c.key == key).values(value=value)
    ).rowcount
    if not updated:
        conn.execute(tags.insert().values(run_uuid=run_id, key=key, value=value))


def set_stage(conn: Connection, run_id: str, stage: str, deleted_time: int | None) -> None:
    if stage_of(conn, run_id) is None:
        raise not_found(run_id)
    conn.execute(
        runs.update()
        .where(runs.c.run_uuid == run_id)
        .values(lifecycle_stage=stage, deleted_time=deleted_time)
    )


def delete_tag(conn: Connection, run_id: str, key: str) -> None:
    require_active(conn, run_id)
    deleted = conn.execute(
        tags.delete().where(tags.c.run_uuid == run_id, tags.c.key == key)
    ).rowcount
    if not deleted:
        raise MlflowException(
            f"No tag with name: {key} in run with id {run_id}", RESOURCE_DOES_NOT_EXIST
        )
