"""``tracklet import http://host:5000``: a running tracking server (MLflow's or tracklet's) read
through its REST API, written into tracklet's tables with the same writer as a database import
(ids kept, idempotent, resumable).

What the REST API does not say is made up as MLflow's store would have it: a deleted run's
``deleted_time`` is the time of the import (``tracklet gc --older-than`` counts from it), and a
dataset's id is derived from its experiment, name and digest. Artifacts are copied through the
server (its ``mlflow-artifacts`` proxy, or the locations it reports). Traces come with their
tags, metadata and spans (``BatchGetTraces``), the spans then kept in the tracking store.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from tracklet.transfer.artifact_copy import copy_tree
from tracklet.transfer.metric_reader import MetricRows, series_rows
from tracklet.transfer.writer import InputRows, Rows, write_experiments, write_runs
from tracklet.transfer.writer_extra import (
    metric_value,
    present,
    trace_rows,
    write_logged_models,
    write_registry,
    write_traces,
)

if TYPE_CHECKING:
    from tracklet.entities import Run, Span
    from tracklet.store.rest.store import RestStore
    from tracklet.store.sql.store import SqlStore
    from tracklet.transfer.db_import import ImportOptions

Progress = Callable[[int | None, str, str], Any]
_DATASET_NAMESPACE = uuid.UUID("0b6c1f0e-3d7a-4f7e-8a8e-5b0c2d9e4f11")
_ALL = 3  # ViewType.ALL


def _pages(search: Callable[[str | None], Any]) -> Iterator[Any]:
    token: str | None = None
    while True:
        page = search(token)
        yield from page
        token = page.token
        if not token:
            return


def import_server(
    url: str, store: SqlStore, options: ImportOptions, progress: Progress
) -> Counter[str]:
    """Import everything a tracking server serves into ``store``; returns what was added."""
    from tracklet.store.rest.store import RestStore

    source = RestStore(url)
    counts: Counter[str] = Counter()
    try:
        experiments = list(_pages(lambda t: source.search_experiments(_ALL, 1000, page_token=t)))
        ids = [e.experiment_id for e in experiments]
        runs = [run for eid in ids for run in _pages(functools.partial(_search_runs, source, eid))]
        rows = [
            (
                e.experiment_id,
                e.name,
                e.artifact_location,
                e.lifecycle_stage,
                e.creation_time,
                e.last_update_time,
            )
            for e in experiments
        ]
        tags = [
            {"experiment_id": int(e.experiment_id), "key": k, "value": v}
            for e in experiments
            for k, v in e.tags.items()
        ]
        datasets = {
            _dataset_uuid(run, d.dataset.name, d.dataset.digest): {
                "dataset_uuid": _dataset_uuid(run, d.dataset.name, d.dataset.digest),
                "experiment_id": int(run.info.experiment_id),
                "name": d.dataset.name,
                "digest": d.dataset.digest,
                "source_type": d.dataset.source_type,
                "source": d.dataset.source,
                "schema": d.dataset.schema,
                "profile": d.dataset.profile,
            }
            for run in runs
            for d in run.inputs.dataset_inputs
        }
        locations = write_experiments(store, options, rows, tags, list(datasets.values()), counts)
        _import_models(source, store, options, locations, ids, url, counts)
        _import_runs(source, store, options, locations, runs, url, counts, progress)
        _import_registry(source, store, counts)
        _import_traces(source, store, ids, url, counts)
    finally:
        source.close()
    return counts


def _search_runs(source: RestStore, experiment_id: str, token: str | None) -> Any:
    return source.search_runs([experiment_id], "", _ALL, 1000, None, token)


def _search_versions(source: RestStore, name: str, token: str | None) -> Any:
    quoted = name.replace("'", "\\'")
    return source.search_model_versions(f"name = '{quoted}'", page_token=token)


def _search_traces(source: RestStore, experiment_id: str, token: str | None) -> Any:
    return source.search_traces([experiment_id], max_results=500, page_token=token)


def _dataset_uuid(run: Run, name: str, digest: str) -> str:
    return uuid.uuid5(_DATASET_NAMESPACE, f"{run.info.experiment_id}/{name}/{digest}").hex


def _import_runs(
    source: RestStore,
    store: SqlStore,
    options: ImportOptions,
    locations: dict[str, str],
    runs: list[Run],
    url: str,
    counts: Counter[str],
    progress: Progress,
) -> None:
    done = present(store, "SELECT run_uuid FROM runs")
    todo = [run for run in runs if run.info.run_id not in done]
    counts["runs already present"] += len(runs) - len(todo)
    now = int(time.time() * 1000)
    with progress(len(todo), "Importing runs", "run") as bar:
        for at in range(0, len(todo), options.batch_size):
            batch = todo[at : at + options.batch_size]
            rows = [
                (
                    r.info.run_id,
                    r.info.experiment_id,
                    r.info.run_name,
                    r.info.user_id,
                    r.info.status,
                    r.info.start_time,
                    r.info.end_time,
                    now if r.info.lifecycle_stage == "deleted" else None,
                    r.info.lifecycle_stage,
                    r.info.artifact_uri,
                )
                for r in batch
            ]
            params = [
                {"run_uuid": r.info.run_id, "key": k, "value": v}
                for r in batch
                for k, v in r.data.params.items()
            ]
            tags = [
                {"run_uuid": r.info.run_id, "key": k, "value": v}
                for r in batch
                for k, v in r.data.tags.items()
            ]
            write_runs(
                store,
                options,
                locations,
                rows,
                params,
                tags,
                _metrics(source, batch),
                _inputs(batch),
                counts,
                url,
            )
            bar.update(len(batch))


def _metrics(source: RestStore, batch: list[Run]) -> MetricRows:
    chunks: Rows = []
    latest: Rows = []
    total = 0
    for run in batch:
        run_id = run.info.run_id
        for key in run.data.metrics:
            history = source.get_metric_history(run_id, key)
            steps, timestamps, values = history.steps, history.timestamps, history.values
            total += series_rows(run_id, key, steps, timestamps, values, chunks, latest)
    return chunks, latest, total


def _inputs(batch: list[Run]) -> InputRows:
    links: Rows = []
    tags: Rows = []
    models_in: Rows = []
    models_out: Rows = []
    for run in batch:
        run_id = run.info.run_id
        for position, d in enumerate(run.inputs.dataset_inputs):
            dataset_uuid = _dataset_uuid(run, d.dataset.name, d.dataset.digest)
            links.append({"run_uuid": run_id, "dataset_uuid": dataset_uuid, "position": position})
            tags.extend(
                {"run_uuid": run_id, "dataset_uuid": dataset_uuid, "key": t.key, "value": t.value}
                for t in d.tags
            )
        models_in.extend(
            {"run_uuid": run_id, "model_id": m.model_id, "position": i}
            for i, m in enumerate(run.inputs.model_inputs)
        )
        models_out.extend(
            {"run_uuid": run_id, "model_id": m.model_id, "step": m.step}
            for m in run.outputs.model_outputs
        )
    return links, tags, models_in, models_out


def _import_models(
    source: RestStore,
    store: SqlStore,
    options: ImportOptions,
    locations: dict[str, str],
    experiment_ids: list[str],
    url: str,
    counts: Counter[str],
) -> None:
    import posixpath

    done = present(store, "SELECT model_id FROM logged_models")
    found = [
        m
        for m in _pages(lambda t: source.search_logged_models(experiment_ids, page_token=t))
        if m.model_id not in done
    ]
    if not found:
        return
    models: Rows = []
    for m in found:
        target = m.artifact_location
        if options.copy_artifacts:
            target = posixpath.join(locations[m.experiment_id], "models", m.model_id, "artifacts")
            if copy_tree(m.artifact_location, target, url):
                counts["logged model artifact directories copied"] += 1
        models.append(
            {
                "model_id": m.model_id,
                "experiment_id": int(m.experiment_id),
                "name": m.name,
                "artifact_location": target,
                "creation_timestamp": m.creation_timestamp,
                "last_updated_timestamp": m.last_updated_timestamp,
                "status": _status_number(m.status),
                "status_message": m.status_message,
                "model_type": m.model_type,
                "source_run_id": m.source_run_id,
                "lifecycle_stage": "active",
            }
        )
    tags = [
        {"model_id": m.model_id, "key": k, "value": v} for m in found for k, v in m.tags.items()
    ]
    params = [
        {"model_id": m.model_id, "key": k, "value": v} for m in found for k, v in m.params.items()
    ]
    metrics = [
        {
            "model_id": m.model_id,
            "key": x.key,
            **metric_value(x.value),
            "timestamp": x.timestamp,
            "step": x.step,
            "run_uuid": x.run_id,
            "dataset_name": x.dataset_name,
            "dataset_digest": x.dataset_digest,
        }
        for m in found
        for x in m.metrics or []
    ]
    write_logged_models(store, models, tags, params, metrics, counts)


def _status_number(status: Any) -> int:
    """LoggedModelStatus as MLflow's enum number (PENDING 1, READY 2, FAILED 3)."""
    name = str(getattr(status, "name", status)).upper().rpartition(".")[2]
    return {"PENDING": 1, "READY": 2, "FAILED": 3}.get(name, 0)


def _import_registry(source: RestStore, store: SqlStore, counts: Counter[str]) -> None:
    registered = list(_pages(lambda t: source.search_registered_models(page_token=t)))
    if not registered:
        return
    versions = [
        v for m in registered for v in _pages(functools.partial(_search_versions, source, m.name))
    ]
    model_rows = [
        {
            "name": m.name,
            "creation_time": m.creation_timestamp or 0,
            "last_updated_time": m.last_updated_timestamp or m.creation_timestamp or 0,
            "description": m.description,
        }
        for m in registered
    ]
    version_rows = [
        {
            "name": v.name,
            "version": int(v.version),
            "creation_time": v.creation_timestamp,
            "last_updated_time": v.last_updated_timestamp or v.creation_timestamp,
            "description": v.description,
            "user_id": v.user_id,
            "current_stage": v.current_stage,
            "source": v.source,
            "storage_location": v.source,
            "run_id": v.run_id,
            "run_link": v.run_link,
            "status": v.status,
            "status_message": v.status_message,
            "model_id": v.model_id,
        }
        for v in versions
    ]
    model_tags = [
        {"name": m.name, "key": k, "value": v} for m in registered for k, v in m.tags.items()
    ]
    version_tags = [
        {"name": v.name, "version": int(v.version), "key": k, "value": val}
        for v in versions
        for k, val in v.tags.items()
    ]
    aliases = [
        {"name": m.name, "alias": a, "version": int(ver)}
        for m in registered
        for a, ver in m.aliases.items()
    ]
    write_registry(store, model_rows, version_rows, model_tags, version_tags, aliases, counts)


def _import_traces(
    source: RestStore, store: SqlStore, experiment_ids: list[str], url: str, counts: Counter[str]
) -> None:
    """Traces not yet in the destination, read 100 at a time with their spans: from
    ``BatchGetTraces``, or, where the server cannot (a file store answers NOT_IMPLEMENTED) or
    keeps a trace's spans as an artifact, from the trace's ``traces.json`` as MLflow's client
    reads it."""
    from tracklet.exceptions import MlflowException

    done = present(store, "SELECT trace_id FROM trace_info")
    infos = [
        info
        for eid in experiment_ids
        for info in _pages(functools.partial(_search_traces, source, eid))
        if info.trace_id not in done
    ]
    for at in range(0, len(infos), 100):
        chunk = infos[at : at + 100]
        try:
            full = {t.trace_id: t for t in source.batch_get_traces([i.trace_id for i in chunk])}
        except MlflowException:
            full = {}
        traces = []
        for info in chunk:
            trace = full.get(info.trace_id)
            whole = trace.info if trace is not None else info
            spans = list(trace.data.spans) if trace is not None else []
            if not spans:
                spans = _artifact_spans(whole.tags.get("mlflow.artifactLocation"), url)
            traces.append((whole, int(whole.experiment_id or info.experiment_id or "0"), spans))
        write_traces(store, *trace_rows(traces), counts)


def _artifact_spans(location: str | None, url: str) -> list[Span]:
    """The spans of a trace's ``traces.json`` at its artifact location (none when absent)."""
    if not location:
        return []
    import json
    import tempfile

    from tracklet.artifacts.registry import get_artifact_repository
    from tracklet.entities import Span
    from tracklet.exceptions import MlflowException

    with tempfile.TemporaryDirectory(prefix="tracklet-import-") as tmp:
        try:
            path = get_artifact_repository(location, url).download_artifacts("traces.json", tmp)
            with open(path, encoding="utf-8") as file:
                data = json.load(file)
        except (MlflowException, OSError, ValueError):
            return []
    return [Span.from_dict(span) for span in data.get("spans") or []]
