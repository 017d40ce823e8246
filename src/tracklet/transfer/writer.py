"""Writing imported rows into tracklet's tables, whatever they were read from (an MLflow
database, a tracking server): experiments with the id checks, and a batch of runs with all of
their data in one transaction (artifacts copied first), every row ON CONFLICT DO NOTHING."""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.store.sql import schema as ours
from tracklet.transfer.artifact_copy import copy_tree, resolve
from tracklet.transfer.bulk import creation_seqs, insert_ignore
from tracklet.transfer.metric_reader import MetricRows

if TYPE_CHECKING:
    from tracklet.store.sql.store import SqlStore
    from tracklet.transfer.db_import import ImportOptions

Rows = list[dict[str, Any]]
InputRows = tuple[Rows, Rows, Rows, Rows]


def write_experiments(
    store: SqlStore,
    options: ImportOptions,
    rows: Sequence[Sequence[Any]],
    tag_rows: Rows,
    dataset_rows: Rows,
    counts: Counter[str],
) -> dict[str, str]:
    """Experiments (id, name, location, stage, created, updated) not yet in ``store``, their
    tags and datasets; returns experiment id -> artifact location in the destination. Refuses,
    before writing anything, an id or name the destination has for another experiment."""
    with store._reader() as db:
        cursor = db.dbapi.cursor()
        cursor.execute("SELECT experiment_id, name, artifact_location FROM experiments")
        existing = {str(r[0]): (r[1], r[2]) for r in cursor.fetchall()}
    names = {name: eid for eid, (name, _) in existing.items()}
    locations: dict[str, str] = {}
    new_rows = []
    for eid, name, location, stage, created, updated in rows:
        eid = str(eid)
        if eid in existing:
            if existing[eid][0] != name and eid != "0":
                raise MlflowException(
                    f"Experiment id {eid} is {existing[eid][0]!r} in the destination but "
                    f"{name!r} in the source: ids are kept, so import into a new database (or "
                    "the one this source was imported into before).",
                    INVALID_PARAMETER_VALUE,
                )
            locations[eid] = existing[eid][1]
            continue
        if name in names:
            raise MlflowException(
                f"The destination already has an experiment named {name!r} (id {names[name]}); "
                f"the source's has id {eid}.",
                INVALID_PARAMETER_VALUE,
            )
        target = (
            posixpath.join(store.artifact_root.rstrip("/"), eid)
            if options.copy_artifacts
            else location
        )
        locations[eid] = target
        new_rows.append(
            {
                "experiment_id": int(eid),
                "name": name,
                "artifact_location": target,
                "lifecycle_stage": stage or "active",
                "creation_time": created,
                "last_update_time": updated,
            }
        )
    with store._writer.transaction() as db:
        cursor = db.dbapi.cursor()
        counts["experiments"] += insert_ignore(cursor, db.dialect_name, ours.experiments, new_rows)
        insert_ignore(cursor, db.dialect_name, ours.experiment_tags, tag_rows)
        insert_ignore(cursor, db.dialect_name, ours.datasets, dataset_rows)
    counts["datasets"] += len(dataset_rows)
    return locations


def write_runs(
    store: SqlStore,
    options: ImportOptions,
    locations: dict[str, str],
    batch: Sequence[Sequence[Any]],
    params: Rows,
    tags: Rows,
    metric_rows: MetricRows,
    inputs: InputRows,
    counts: Counter[str],
    tracking_uri: str | None = None,
) -> None:
    """A batch of runs (id, experiment, name, user, status, start, end, deleted time, stage,
    artifact URI) with their params, tags, metric rows and inputs, in one transaction; their
    artifacts are copied first (again, harmlessly, if a previous attempt was interrupted)."""
    run_rows = []
    for run_id, eid, name, user, status, start, end, deleted, stage, uri in batch:
        target = uri
        if options.copy_artifacts:
            target = posixpath.join(locations[str(eid)], run_id, "artifacts")
            if uri and copy_tree(resolve(uri, options.artifacts_destination), target, tracking_uri):
                counts["run artifact directories copied"] += 1
        run_rows.append(
            {
                "run_uuid": run_id,
                "experiment_id": int(eid),
                "name": name,
                "user_id": user,
                "status": status or "RUNNING",
                "start_time": start,
                "end_time": end,
                "deleted_time": deleted,
                "lifecycle_stage": stage or "active",
                "artifact_uri": target,
            }
        )
    chunks, latest, points = metric_rows
    dataset_links, input_tag_rows, model_inputs, model_outputs = inputs
    with store._writer.transaction() as db:
        cursor = db.dbapi.cursor()
        d = db.dialect_name
        for row, seq in zip(run_rows, creation_seqs(cursor, d, "runs", len(run_rows)), strict=True):
            row["creation_seq"] = seq
        counts["runs"] += insert_ignore(cursor, d, ours.runs, run_rows)
        counts["params"] += insert_ignore(cursor, d, ours.params, params)
        counts["tags"] += insert_ignore(cursor, d, ours.tags, tags)
        insert_ignore(cursor, d, ours.latest_metrics, latest)
        insert_ignore(cursor, d, ours.metric_chunks, chunks)
        counts["metric series"] += len(latest)
        counts["metric points"] += points
        counts["dataset inputs"] += insert_ignore(cursor, d, ours.run_dataset_inputs, dataset_links)
        insert_ignore(cursor, d, ours.input_tags, input_tag_rows)
        counts["model inputs"] += insert_ignore(cursor, d, ours.run_model_inputs, model_inputs)
        counts["model outputs"] += insert_ignore(cursor, d, ours.run_model_outputs, model_outputs)
