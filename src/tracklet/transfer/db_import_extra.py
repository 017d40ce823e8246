"""The rest of an MLflow database's import: logged models (with their tags, params, metrics and
artifacts), the model registry, and traces (with tags, metadata and spans)."""

from __future__ import annotations

import posixpath
from collections import Counter
from typing import TYPE_CHECKING

import sqlalchemy as sa

from tracklet.transfer import mlflow_tables as theirs
from tracklet.transfer.artifact_copy import copy_tree, resolve
from tracklet.transfer.writer_extra import (
    present,
    write_logged_models,
    write_registry,
    write_traces,
)

if TYPE_CHECKING:
    from tracklet.store.sql.store import SqlStore
    from tracklet.transfer.db_import import ImportOptions, _Source


def import_models(
    source: _Source,
    store: SqlStore,
    options: ImportOptions,
    locations: dict[str, str],
    counts: Counter[str],
) -> None:
    """Logged models not yet in the destination, in one transaction (artifacts copied first)."""
    if "logged_models" not in source.tables:
        return
    lm = theirs.logged_models
    done = present(store, "SELECT model_id FROM logged_models")
    rows = [
        r
        for r in source.rows(
            sa.select(
                lm.c.model_id,
                lm.c.experiment_id,
                lm.c.name,
                lm.c.artifact_location,
                lm.c.creation_timestamp_ms,
                lm.c.last_updated_timestamp_ms,
                lm.c.status,
                lm.c.status_message,
                lm.c.model_type,
                lm.c.source_run_id,
                lm.c.lifecycle_stage,
            )
        )
        if r[0] not in done
    ]
    if not rows:
        return
    ids = [r[0] for r in rows]
    models = []
    for model_id, eid, name, location, created, updated, status, message, kind, run, stage in rows:
        target = location
        if options.copy_artifacts:
            target = posixpath.join(locations[str(eid)], "models", model_id, "artifacts")
            if copy_tree(resolve(location, options.artifacts_destination), target):
                counts["logged model artifact directories copied"] += 1
        models.append(
            {
                "model_id": model_id,
                "experiment_id": int(eid),
                "name": name,
                "artifact_location": target,
                "creation_timestamp": created,
                "last_updated_timestamp": updated,
                "status": status,
                "status_message": message,
                "model_type": kind,
                "source_run_id": run,
                "lifecycle_stage": stage or "active",
            }
        )
    t, p, m = theirs.logged_model_tags, theirs.logged_model_params, theirs.logged_model_metrics
    tags = [
        {"model_id": r[0], "key": r[1], "value": r[2]}
        for r in source.rows(
            sa.select(t.c.model_id, t.c.tag_key, t.c.tag_value).where(t.c.model_id.in_(ids))
        )
    ]
    params = [
        {"model_id": r[0], "key": r[1], "value": r[2]}
        for r in source.rows(
            sa.select(p.c.model_id, p.c.param_key, p.c.param_value).where(p.c.model_id.in_(ids))
        )
    ]
    metrics = [
        {
            "model_id": r[0],
            "key": r[1],
            "value": r[4],
            "is_nan": r[4] is None,
            "timestamp": r[2],
            "step": r[3],
            "run_uuid": r[5],
            "dataset_name": r[6],
            "dataset_digest": r[7],
        }
        for r in source.rows(
            sa.select(
                m.c.model_id,
                m.c.metric_name,
                m.c.metric_timestamp_ms,
                m.c.metric_step,
                m.c.metric_value,
                m.c.run_id,
                m.c.dataset_name,
                m.c.dataset_digest,
            ).where(m.c.model_id.in_(ids))
        )
    ]
    write_logged_models(store, models, tags, params, metrics, counts)


def import_registry(source: _Source, store: SqlStore, counts: Counter[str]) -> None:
    """Registered models, versions, their tags and aliases (MLflow's default workspace)."""
    if "registered_models" not in source.tables:
        return
    rm, mv = theirs.registered_models, theirs.model_versions
    models = [
        {
            "name": r[0],
            "creation_time": r[1] or 0,
            "last_updated_time": r[2] or r[1] or 0,
            "description": r[3],
        }
        for r in source.rows(
            sa.select(rm.c.name, rm.c.creation_time, rm.c.last_updated_time, rm.c.description)
        )
    ]
    versions = [
        {
            "name": r[0],
            "version": r[1],
            "creation_time": r[2] or 0,
            "last_updated_time": r[3] or r[2] or 0,
            "description": r[4],
            "user_id": r[5],
            "current_stage": r[6] or "None",
            "source": r[7],
            "run_id": r[8],
            "status": r[9] or "READY",
            "status_message": r[10],
            "run_link": r[11],
            "storage_location": r[12] or r[7],
            "model_id": _model_id_of(r[7]),
        }
        for r in source.rows(
            sa.select(
                mv.c.name,
                mv.c.version,
                mv.c.creation_time,
                mv.c.last_updated_time,
                mv.c.description,
                mv.c.user_id,
                mv.c.current_stage,
                mv.c.source,
                mv.c.run_id,
                mv.c.status,
                mv.c.status_message,
                mv.c.run_link,
                mv.c.storage_location,
            )
        )
    ]
    rt, vt, al = (
        theirs.registered_model_tags,
        theirs.model_version_tags,
        theirs.registered_model_aliases,
    )
    model_tags = [
        {"name": r[0], "key": r[1], "value": r[2]}
        for r in source.rows(sa.select(rt.c.name, rt.c.key, rt.c.value))
    ]
    version_tags = [
        {"name": r[0], "version": r[1], "key": r[2], "value": r[3]}
        for r in source.rows(sa.select(vt.c.name, vt.c.version, vt.c.key, vt.c.value))
    ]
    aliases = [
        {"name": r[0], "alias": r[1], "version": r[2]}
        for r in source.rows(sa.select(al.c.name, al.c.alias, al.c.version))
    ]
    write_registry(store, models, versions, model_tags, version_tags, aliases, counts)


def _model_id_of(source: str | None) -> str | None:
    if source and source.startswith("models:/m-"):
        return source[len("models:/") :].split("/", 1)[0]
    return None


def import_traces(source: _Source, store: SqlStore, counts: Counter[str]) -> None:
    """Traces not yet in the destination, with tags, metadata and spans."""
    if "trace_info" not in source.tables:
        return
    ti = theirs.trace_info
    done = present(store, "SELECT trace_id FROM trace_info")
    rows = [
        r
        for r in source.rows(
            sa.select(
                ti.c.request_id,
                ti.c.experiment_id,
                ti.c.timestamp_ms,
                ti.c.execution_time_ms,
                ti.c.status,
                ti.c.client_request_id,
                ti.c.request_preview,
                ti.c.response_preview,
                ti.c.trace_name,
            )
        )
        if r[0] not in done
    ]
    if not rows:
        return
    ids = [r[0] for r in rows]
    tt, md, sp = theirs.trace_tags, theirs.trace_request_metadata, theirs.spans
    tags = [
        {"trace_id": r[0], "key": r[1], "value": r[2]}
        for r in source.rows(
            sa.select(tt.c.request_id, tt.c.key, tt.c.value).where(tt.c.request_id.in_(ids))
        )
    ]
    metadata = [
        {"trace_id": r[0], "key": r[1], "value": r[2]}
        for r in source.rows(
            sa.select(md.c.request_id, md.c.key, md.c.value).where(md.c.request_id.in_(ids))
        )
    ]
    meta = {(m["trace_id"], m["key"]): m["value"] for m in metadata}
    infos = [
        {
            "trace_id": r[0],
            "experiment_id": int(r[1]),
            "timestamp_ms": r[2],
            "execution_time_ms": r[3],
            "status": r[4],
            "client_request_id": r[5],
            "request_preview": r[6],
            "response_preview": r[7],
            "name": r[8],
            "model_id": meta.get((r[0], "mlflow.modelId")),
            "run_id": meta.get((r[0], "mlflow.sourceRun")),
        }
        for r in rows
    ]
    span_rows = (
        [
            dict(zip(theirs.SPAN_FIELDS, r, strict=True))
            for r in source.rows(
                sa.select(*(sp.c[name] for name in theirs.SPAN_FIELDS)).where(
                    sp.c.trace_id.in_(ids)
                )
            )
        ]
        if "spans" in source.tables
        else []
    )
    write_traces(store, infos, tags, metadata, span_rows, counts)
