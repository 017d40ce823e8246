"""The rest of an export into MLflow's tables: logged models (with tags, params and metrics),
the model registry, and traces (with tags, metadata and spans); rows already there are kept."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tracklet.transfer import mlflow_tables as theirs
from tracklet.transfer.bulk import insert_ignore


def _all(dbapi: Any, sql: str) -> list[Any]:
    cursor = dbapi.cursor()
    cursor.execute(sql)
    return list(cursor.fetchall())


def export_models(src: Any, dest: Any, dialect: str, counts: Counter[str]) -> None:
    """Logged models not yet in the destination."""
    present = {r[0] for r in _all(dest, "SELECT model_id FROM logged_models")}
    rows = [
        r
        for r in _all(
            src,
            "SELECT model_id, experiment_id, name, artifact_location, creation_timestamp, "
            "last_updated_timestamp, status, lifecycle_stage, model_type, source_run_id, "
            "status_message FROM logged_models",
        )
        if r[0] not in present
    ]
    if not rows:
        return
    experiment_of = {r[0]: r[1] for r in rows}
    models = [
        dict(
            zip(
                (
                    "model_id",
                    "experiment_id",
                    "name",
                    "artifact_location",
                    "creation_timestamp_ms",
                    "last_updated_timestamp_ms",
                    "status",
                    "lifecycle_stage",
                    "model_type",
                    "source_run_id",
                    "status_message",
                ),
                r,
                strict=True,
            )
        )
        for r in rows
    ]
    tags = [
        {"model_id": m, "experiment_id": experiment_of[m], "tag_key": k, "tag_value": v}
        for m, k, v in _all(src, "SELECT model_id, key, value FROM logged_model_tags")
        if m in experiment_of
    ]
    params = [
        {"model_id": m, "experiment_id": experiment_of[m], "param_key": k, "param_value": v}
        for m, k, v in _all(src, "SELECT model_id, key, value FROM logged_model_params")
        if m in experiment_of
    ]
    metrics = [
        {
            "model_id": m,
            "metric_name": k,
            "metric_timestamp_ms": t,
            "metric_step": s,
            "metric_value": float("nan") if nan else v,
            "experiment_id": experiment_of[m],
            "run_id": run,
            "dataset_uuid": None,
            "dataset_name": dn,
            "dataset_digest": dd,
        }
        for m, k, v, nan, t, s, run, dn, dd in _all(
            src,
            "SELECT model_id, key, value, is_nan, timestamp, step, run_uuid, dataset_name, "
            "dataset_digest FROM logged_model_metrics",
        )
        if m in experiment_of and run is not None
    ]
    cursor = dest.cursor()
    counts["logged models"] += insert_ignore(cursor, dialect, theirs.logged_models, models)
    insert_ignore(cursor, dialect, theirs.logged_model_tags, tags)
    insert_ignore(cursor, dialect, theirs.logged_model_params, params)
    insert_ignore(cursor, dialect, theirs.logged_model_metrics, metrics)
    dest.commit()


def export_registry(src: Any, dest: Any, dialect: str, counts: Counter[str]) -> None:
    """Registered models, versions, their tags and aliases (MLflow's default workspace)."""
    present = {r[0] for r in _all(dest, "SELECT name FROM registered_models")}
    models = [
        {"name": n, "creation_time": c, "last_updated_time": u, "description": d}
        for n, c, u, d in _all(
            src, "SELECT name, creation_time, last_updated_time, description FROM registered_models"
        )
        if n not in present
    ]
    if not models:
        return
    names = {m["name"] for m in models}
    versions = [
        dict(zip(theirs.VERSION_FIELDS, r, strict=True))
        for r in _all(src, f"SELECT {', '.join(theirs.VERSION_FIELDS)} FROM model_versions")
        if r[0] in names
    ]
    model_tags = [
        {"key": k, "value": v, "name": n}
        for n, k, v in _all(src, "SELECT name, key, value FROM registered_model_tags")
        if n in names
    ]
    version_tags = [
        {"key": k, "value": v, "name": n, "version": ver}
        for n, ver, k, v in _all(src, "SELECT name, version, key, value FROM model_version_tags")
        if n in names
    ]
    aliases = [
        {"alias": a, "version": ver, "name": n}
        for n, a, ver in _all(src, "SELECT name, alias, version FROM registered_model_aliases")
        if n in names
    ]
    cursor = dest.cursor()
    counts["registered models"] += insert_ignore(cursor, dialect, theirs.registered_models, models)
    counts["model versions"] += insert_ignore(cursor, dialect, theirs.model_versions, versions)
    insert_ignore(cursor, dialect, theirs.registered_model_tags, model_tags)
    insert_ignore(cursor, dialect, theirs.model_version_tags, version_tags)
    insert_ignore(cursor, dialect, theirs.registered_model_aliases, aliases)
    dest.commit()


def export_traces(src: Any, dest: Any, dialect: str, counts: Counter[str]) -> None:
    """Traces not yet in the destination, with their tags, metadata and spans."""
    present = {r[0] for r in _all(dest, "SELECT request_id FROM trace_info")}
    rows = [
        r
        for r in _all(
            src,
            "SELECT trace_id, experiment_id, timestamp_ms, execution_time_ms, status, "
            "client_request_id, request_preview, response_preview, name FROM trace_info",
        )
        if r[0] not in present
    ]
    if not rows:
        return
    experiment_of = {r[0]: r[1] for r in rows}
    infos = [
        dict(
            zip(
                (
                    "request_id",
                    "experiment_id",
                    "timestamp_ms",
                    "execution_time_ms",
                    "status",
                    "client_request_id",
                    "request_preview",
                    "response_preview",
                    "trace_name",
                ),
                r,
                strict=True,
            )
        )
        for r in rows
    ]
    tags = [
        {"key": k, "value": v, "request_id": t}
        for t, k, v in _all(src, "SELECT trace_id, key, value FROM trace_tags")
        if t in experiment_of
    ]
    metadata = [
        {"key": k, "value": v, "request_id": t}
        for t, k, v in _all(src, "SELECT trace_id, key, value FROM trace_metadata")
        if t in experiment_of
    ]
    spans = [
        {**dict(zip(theirs.SPAN_FIELDS, r, strict=True)), "experiment_id": experiment_of[r[0]]}
        for r in _all(src, f"SELECT {', '.join(theirs.SPAN_FIELDS)} FROM spans")
        if r[0] in experiment_of
    ]
    cursor = dest.cursor()
    counts["traces"] += insert_ignore(cursor, dialect, theirs.trace_info, infos)
    insert_ignore(cursor, dialect, theirs.trace_tags, tags)
    insert_ignore(cursor, dialect, theirs.trace_request_metadata, metadata)
    counts["spans"] += insert_ignore(cursor, dialect, theirs.spans, spans)
    dest.commit()
