"""``tracklet export`` into an MLflow 3.17.2 database: experiments, runs with every metric
point, params, tags, datasets and inputs, logged models, the registry and traces, ids kept.

A new SQLite file is created with MLflow's schema from a snapshot of what MLflow 3.17.2 creates
(``mlflow_3_17_2_sqlite.sql``), so MLflow opens it without migrating; an existing MLflow
database (SQLite or PostgreSQL) is written into as it is. As with import, rows are inserted with
ON CONFLICT DO NOTHING and a batch of runs commits at once, so exporting again adds only runs
that are new, and an interrupted export resumes.
"""

from __future__ import annotations

import math
import os
import uuid
from collections import Counter
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.store.sql import metric_codec
from tracklet.transfer import mlflow_tables as theirs
from tracklet.transfer.bulk import insert_ignore
from tracklet.transfer.db_export_extra import export_models, export_registry, export_traces
from tracklet.transfer.source import check_revision

if TYPE_CHECKING:
    from tracklet.store.sql.store import SqlStore

Progress = Callable[[int | None, str, str], Any]
_MAX_FLOAT = 1.7976931348623157e308  # MLflow stores +-inf as the largest float
_INPUT_NAMESPACE = uuid.UUID("6f1d2b1e-7a53-4d0e-9a49-3b1f3c5d8e21")


def export_database(
    store: SqlStore, dest_uri: str, batch_size: int, progress: Progress
) -> Counter[str]:
    """Export ``store`` into the MLflow database at ``dest_uri``; returns what was added."""
    engine = _open_destination(dest_uri)
    counts: Counter[str] = Counter()
    try:
        wrapper = engine.raw_connection()
        try:
            dest = wrapper.driver_connection
            dialect = engine.dialect.name
            with store._reader() as db:
                src = db.dbapi
                _export_experiments(src, dest, dialect, counts)
                _export_runs(src, dest, dialect, batch_size, counts, progress)
                export_models(src, dest, dialect, counts)
                export_registry(src, dest, dialect, counts)
                export_traces(src, dest, dialect, counts)
        finally:
            wrapper.close()
    finally:
        engine.dispose()
    return counts


def _open_destination(uri: str) -> sa.engine.Engine:
    from tracklet.store.sql.engine import normalize_db_uri

    url = normalize_db_uri(uri)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :].partition("?")[0]
        if not os.path.exists(path):
            if not os.path.isdir(os.path.dirname(path) or "."):
                raise MlflowException(
                    f"Cannot create {path}: its directory does not exist", INVALID_PARAMETER_VALUE
                )
            _create_mlflow_sqlite(path)
    engine = sa.create_engine(url)
    names = set(sa.inspect(engine).get_table_names())
    if "tracklet_alembic_version" in names or not {"alembic_version", "runs", "metrics"} <= names:
        engine.dispose()
        raise MlflowException(
            f"{uri} is not an MLflow database. Export into a new sqlite:/// file (created with "
            "MLflow 3.17.2's schema) or into a database MLflow has opened (mlflow db upgrade).",
            INVALID_PARAMETER_VALUE,
        )
    check_revision(engine, uri)
    return engine


def _create_mlflow_sqlite(path: str) -> None:
    import sqlite3

    script = resources.files("tracklet.transfer").joinpath("mlflow_3_17_2_sqlite.sql").read_text()
    connection = sqlite3.connect(path)
    try:
        connection.executescript(f"BEGIN;\n{script}\nCOMMIT;")
        connection.commit()
    finally:
        connection.close()


def _all(dbapi: Any, sql: str, params: Any = ()) -> list[Any]:
    cursor = dbapi.cursor()
    cursor.execute(sql, params)
    return list(cursor.fetchall())


def _export_experiments(src: Any, dest: Any, dialect: str, counts: Counter[str]) -> None:
    ours = _all(
        src,
        "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
        "last_update_time FROM experiments ORDER BY experiment_id",
    )
    theirs_rows = {
        str(r[0]): r[1] for r in _all(dest, "SELECT experiment_id, name FROM experiments")
    }
    names = {name: eid for eid, name in theirs_rows.items()}
    new = []
    for eid, name, location, stage, created, updated in ours:
        eid = str(eid)
        if eid in theirs_rows:
            if theirs_rows[eid] != name and eid != "0":
                raise MlflowException(
                    f"Experiment id {eid} is {theirs_rows[eid]!r} in the destination but {name!r} "
                    "here: ids are kept, so export into a new database (or the same one again).",
                    INVALID_PARAMETER_VALUE,
                )
            continue
        if name in names:
            raise MlflowException(
                f"The destination already has an experiment named {name!r} (id {names[name]}).",
                INVALID_PARAMETER_VALUE,
            )
        new.append(
            {
                "experiment_id": int(eid),
                "name": name,
                "artifact_location": location,
                "lifecycle_stage": stage,
                "creation_time": created,
                "last_update_time": updated,
            }
        )
    tags = [
        {"experiment_id": r[0], "key": r[1], "value": r[2]}
        for r in _all(src, "SELECT experiment_id, key, value FROM experiment_tags")
    ]
    datasets = [
        {
            "dataset_uuid": r[0],
            "experiment_id": r[1],
            "name": r[2],
            "digest": r[3],
            "dataset_source_type": r[4],
            "dataset_source": r[5],
            "dataset_schema": r[6],
            "dataset_profile": r[7],
        }
        for r in _all(
            src,
            "SELECT dataset_uuid, experiment_id, name, digest, source_type, source, schema, "
            "profile FROM datasets",
        )
    ]
    cursor = dest.cursor()
    counts["experiments"] += insert_ignore(cursor, dialect, theirs.experiments, new)
    insert_ignore(cursor, dialect, theirs.experiment_tags, tags)
    insert_ignore(cursor, dialect, theirs.datasets, datasets)
    dest.commit()
    if dialect == "postgresql" and new:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('experiments', 'experiment_id'), "
            "(SELECT GREATEST(MAX(experiment_id), 1) FROM experiments))"
        )
        dest.commit()


def _export_runs(
    src: Any, dest: Any, dialect: str, batch_size: int, counts: Counter[str], progress: Progress
) -> None:
    runs = _all(
        src,
        "SELECT run_uuid, experiment_id, name, user_id, status, start_time, end_time, "
        "deleted_time, lifecycle_stage, artifact_uri FROM runs ORDER BY experiment_id, start_time",
    )
    present = {r[0] for r in _all(dest, "SELECT run_uuid FROM runs")}
    todo = [r for r in runs if r[0] not in present]
    counts["runs already present"] += len(runs) - len(todo)
    with progress(len(todo), "Exporting runs", "run") as bar:
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            _export_run_batch(src, dest, dialect, batch, counts)
            bar.update(len(batch))


def _in_list(dialect: str, count: int) -> str:
    mark = "?" if dialect == "sqlite" else "%s"
    return ", ".join([mark] * count)


def _export_run_batch(
    src: Any, dest: Any, dialect: str, batch: list[Any], counts: Counter[str]
) -> None:
    ids = [r[0] for r in batch]
    marks = _in_list("sqlite" if _is_sqlite(src) else "postgresql", len(ids))
    run_rows = [
        {
            "run_uuid": r[0],
            "experiment_id": r[1],
            "name": r[2],
            "source_type": "UNKNOWN",
            "source_name": "",
            "entry_point_name": "",
            "user_id": r[3],
            "status": r[4],
            "start_time": r[5],
            "end_time": r[6],
            "deleted_time": r[7],
            "source_version": "",
            "lifecycle_stage": r[8],
            "artifact_uri": r[9],
        }
        for r in batch
    ]
    params = [
        {"key": r[1], "value": r[2], "run_uuid": r[0]}
        for r in _all(
            src, f"SELECT run_uuid, key, value FROM params WHERE run_uuid IN ({marks})", ids
        )
    ]
    tags = [
        {"key": r[1], "value": r[2], "run_uuid": r[0]}
        for r in _all(
            src, f"SELECT run_uuid, key, value FROM tags WHERE run_uuid IN ({marks})", ids
        )
    ]
    points, latest = _metric_rows(src, ids, marks)
    inputs, input_tags = _input_rows(src, ids, marks)
    cursor = dest.cursor()
    counts["runs"] += insert_ignore(cursor, dialect, theirs.runs, run_rows)
    counts["params"] += insert_ignore(cursor, dialect, theirs.params, params)
    counts["tags"] += insert_ignore(cursor, dialect, theirs.tags, tags)
    counts["metric points"] += insert_ignore(cursor, dialect, theirs.metrics, points)
    counts["metric series"] += insert_ignore(cursor, dialect, theirs.latest_metrics, latest)
    counts["inputs"] += insert_ignore(cursor, dialect, theirs.inputs, inputs)
    insert_ignore(cursor, dialect, theirs.input_tags, input_tags)
    dest.commit()


def _is_sqlite(dbapi: Any) -> bool:
    return type(dbapi).__module__.startswith("sqlite3")


def _stored(value: float) -> tuple[float, bool]:
    """A value as MLflow's SQL store keeps it: NaN as 0 with is_nan, +-inf as +-max float."""
    if value != value:
        return 0.0, True
    if math.isinf(value):
        return (_MAX_FLOAT if value > 0 else -_MAX_FLOAT), False
    return value, False


def _metric_rows(
    src: Any, ids: list[str], marks: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    blobs: dict[tuple[str, str], list[bytes]] = {}
    for run_id, key, data in _all(
        src,
        f"SELECT run_uuid, key, data FROM metric_chunks WHERE run_uuid IN ({marks}) "
        "ORDER BY run_uuid, key, chunk_id",
        ids,
    ):
        blobs.setdefault((run_id, key), []).append(bytes(data))
    points: list[dict[str, Any]] = []
    latest: list[dict[str, Any]] = []
    for run_id, key, value, is_nan, timestamp, step, tail in _all(
        src,
        "SELECT run_uuid, key, value, is_nan, timestamp, step, tail FROM latest_metrics "
        f"WHERE run_uuid IN ({marks})",
        ids,
    ):
        steps, timestamps, values = metric_codec.unpack_points(
            [*blobs.get((run_id, key), []), bytes(tail)]
        )
        for s, t, v in zip(steps, timestamps, values, strict=True):
            stored, nan = _stored(v)
            points.append(
                {
                    "key": key,
                    "value": stored,
                    "timestamp": t,
                    "run_uuid": run_id,
                    "step": s,
                    "is_nan": nan,
                }
            )
        stored, nan = _stored(float("nan") if is_nan else value)
        latest.append(
            {
                "key": key,
                "value": stored,
                "timestamp": timestamp,
                "step": step,
                "is_nan": nan,
                "run_uuid": run_id,
            }
        )
    return points, latest


def _input_rows(
    src: Any, ids: list[str], marks: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    inputs: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    for run_id, dataset_uuid in _all(
        src,
        f"SELECT run_uuid, dataset_uuid FROM run_dataset_inputs WHERE run_uuid IN ({marks}) "
        "ORDER BY run_uuid, position",
        ids,
    ):
        input_uuid = uuid.uuid5(_INPUT_NAMESPACE, f"{run_id}/{dataset_uuid}").hex
        inputs.append(
            {
                "input_uuid": input_uuid,
                "source_type": "DATASET",
                "source_id": dataset_uuid,
                "destination_type": "RUN",
                "destination_id": run_id,
                "step": 0,
            }
        )
    by_pair = {(i["destination_id"], i["source_id"]): i["input_uuid"] for i in inputs}
    for run_id, dataset_uuid, key, value in _all(
        src,
        f"SELECT run_uuid, dataset_uuid, key, value FROM input_tags WHERE run_uuid IN ({marks})",
        ids,
    ):
        linked = by_pair.get((run_id, dataset_uuid))
        if linked is not None:
            tags.append({"input_uuid": linked, "name": key, "value": value})
    for run_id, model_id in _all(
        src, f"SELECT run_uuid, model_id FROM run_model_inputs WHERE run_uuid IN ({marks})", ids
    ):
        inputs.append(
            {
                "input_uuid": uuid.uuid5(_INPUT_NAMESPACE, f"in/{run_id}/{model_id}").hex,
                "source_type": "RUN_INPUT",
                "source_id": run_id,
                "destination_type": "MODEL_INPUT",
                "destination_id": model_id,
                "step": 0,
            }
        )
    for run_id, model_id, step in _all(
        src,
        f"SELECT run_uuid, model_id, step FROM run_model_outputs WHERE run_uuid IN ({marks})",
        ids,
    ):
        inputs.append(
            {
                "input_uuid": uuid.uuid5(_INPUT_NAMESPACE, f"out/{run_id}/{model_id}/{step}").hex,
                "source_type": "RUN_OUTPUT",
                "source_id": run_id,
                "destination_type": "MODEL_OUTPUT",
                "destination_id": model_id,
                "step": step,
            }
        )
    return inputs, tags
