"""``tracklet import ./mlruns``: an MLflow FileStore directory (``mlruns_reader``) written with
the same writers as a database import: experiments (deleted ones from ``.trash`` too), runs with
every metric point, params, tags, dataset inputs and model outputs, logged models, traces with
their spans, and the model registry (``mlruns/models``). Ids are kept; every row is inserted ON
CONFLICT DO NOTHING and a batch of runs commits whole, so a second import adds nothing and an
interrupted one resumes.

Dataset ids: the FileStore names a dataset by the md5 of its name and digest, per experiment;
the first experiment holding one keeps that id, another gets one derived from its own id.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracklet.transfer import mlruns_reader as mr
from tracklet.transfer.artifact_copy import copy_tree, local_path
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
    from tracklet.store.sql.store import SqlStore
    from tracklet.transfer.db_import import ImportOptions

Progress = Callable[[int | None, str, str], Any]
_MODEL_STATUS = {"PENDING": 1, "READY": 2, "FAILED": 3}


def import_mlruns(
    root: str, store: SqlStore, options: ImportOptions, progress: Progress
) -> Counter[str]:
    """Import the FileStore at ``root`` into ``store``; returns the counts of what was added."""
    from tracklet.transfer.db_import import advance_sequences

    counts: Counter[str] = Counter()
    experiments = mr.experiment_dirs(root)
    dataset_ids: dict[tuple[str, str], str] = {}
    locations = _import_experiments(store, options, experiments, dataset_ids, counts)
    _import_models(store, options, experiments, locations, counts)
    _import_runs(store, options, experiments, locations, dataset_ids, counts, progress)
    _import_traces(store, options, experiments, locations, counts)
    _import_registry(root, store, counts)
    advance_sequences(store)
    return counts


def _eid(meta: dict[str, Any]) -> str:
    return str(meta["experiment_id"])


def _import_experiments(
    store: SqlStore,
    options: ImportOptions,
    experiments: list[tuple[str, dict[str, Any]]],
    dataset_ids: dict[tuple[str, str], str],
    counts: Counter[str],
) -> dict[str, str]:
    rows = [
        (
            _eid(meta),
            meta["name"],
            meta.get("artifact_location"),
            meta.get("lifecycle_stage") or "active",
            meta.get("creation_time"),
            meta.get("last_update_time"),
        )
        for _, meta in experiments
    ]
    tags = [
        {"experiment_id": int(_eid(meta)), "key": k, "value": v}
        for directory, meta in experiments
        for k, v in mr.key_values(os.path.join(directory, "tags")).items()
    ]
    datasets = []
    taken: set[str] = set()
    for directory, meta in experiments:
        eid = _eid(meta)
        for source_id, d in mr.datasets(directory).items():
            uuid = source_id if source_id not in taken else _derived(eid, source_id)
            taken.add(uuid)
            dataset_ids[(eid, source_id)] = uuid
            datasets.append(
                {
                    "dataset_uuid": uuid,
                    "experiment_id": int(eid),
                    "name": d["name"],
                    "digest": d["digest"],
                    "source_type": d["source_type"],
                    "source": d["source"],
                    "schema": d.get("schema"),
                    "profile": d.get("profile"),
                }
            )
    return write_experiments(store, options, rows, tags, datasets, counts)


def _derived(experiment_id: str, dataset_id: str) -> str:
    return hashlib.md5(f"{experiment_id}/{dataset_id}".encode(), usedforsecurity=False).hexdigest()


def _import_models(
    store: SqlStore,
    options: ImportOptions,
    experiments: list[tuple[str, dict[str, Any]]],
    locations: dict[str, str],
    counts: Counter[str],
) -> None:
    done = present(store, "SELECT model_id FROM logged_models")
    found = [
        (directory, meta)
        for experiment_dir, _ in experiments
        for directory, meta in mr.model_dirs(experiment_dir)
        if meta["model_id"] not in done
    ]
    models: Rows = []
    tags: Rows = []
    params: Rows = []
    metrics: Rows = []
    for directory, meta in found:
        model_id, eid = meta["model_id"], _eid(meta)
        target = meta.get("artifact_location")
        if options.copy_artifacts:
            files = _files_at(target, os.path.join(directory, "artifacts"))
            target = posixpath.join(locations[eid], "models", model_id, "artifacts")
            if files and copy_tree(files, target):
                counts["logged model artifact directories copied"] += 1
        models.append(
            {
                "model_id": model_id,
                "experiment_id": int(eid),
                "name": meta.get("name"),
                "artifact_location": target,
                "creation_timestamp": meta.get("creation_timestamp"),
                "last_updated_timestamp": meta.get("last_updated_timestamp"),
                "status": _model_status(meta.get("status")),
                "status_message": meta.get("status_message"),
                "model_type": meta.get("model_type"),
                "source_run_id": meta.get("source_run_id"),
                "lifecycle_stage": meta.get("lifecycle_stage") or "active",
            }
        )
        tags += [
            {"model_id": model_id, "key": k, "value": v}
            for k, v in mr.key_values(os.path.join(directory, "tags")).items()
        ]
        params += [
            {"model_id": model_id, "key": k, "value": v}
            for k, v in mr.key_values(os.path.join(directory, "params")).items()
        ]
        metrics += [
            {
                "model_id": model_id,
                "key": key,
                **metric_value(value),
                "timestamp": timestamp,
                "step": step,
                "run_uuid": run_id,
                "dataset_name": name,
                "dataset_digest": digest,
            }
            for key, timestamp, value, step, run_id, name, digest in mr.model_metrics(directory)
        ]
    write_logged_models(store, models, tags, params, metrics, counts)


def _files_at(recorded: str | None, own: str) -> str | None:
    """Where an entity's artifacts are to be read: the location its meta records, or, when
    that is gone, the ``artifacts`` folder inside its own directory (an experiment deleted
    into ``.trash`` keeps its files there, while its metas still name the old place)."""
    path = local_path(recorded) if recorded else None
    if (path is None and recorded) or (path is not None and os.path.exists(path)):
        return recorded
    return Path(own).as_uri() if os.path.isdir(own) else recorded


def _model_status(status: Any) -> int:
    """LoggedModelStatus as MLflow's enum number (the FileStore writes the number)."""
    if isinstance(status, int):
        return status
    return _MODEL_STATUS.get(str(status).upper().rpartition(".")[2], 0)


def _import_runs(
    store: SqlStore,
    options: ImportOptions,
    experiments: list[tuple[str, dict[str, Any]]],
    locations: dict[str, str],
    dataset_ids: dict[tuple[str, str], str],
    counts: Counter[str],
    progress: Progress,
) -> None:
    done = present(store, "SELECT run_uuid FROM runs")
    found = [
        (directory, meta)
        for experiment_dir, experiment in experiments
        for directory in mr.run_dirs(experiment_dir)
        if (meta := mr.read_yaml(directory)) is not None
        # MLflow ignores a run whose meta names another experiment (or none), and so do we.
        and str(meta.get("experiment_id")) == _eid(experiment)
        and (meta.get("run_id") or meta.get("run_uuid"))
    ]
    todo = [(d, meta) for d, meta in found if _run_id(meta) not in done]
    counts["runs already present"] += len(found) - len(todo)
    with progress(len(todo), "Importing runs", "run") as bar:
        for at in range(0, len(todo), options.batch_size):
            batch = todo[at : at + options.batch_size]
            import_run_batch(store, options, locations, dataset_ids, batch, counts)
            bar.update(len(batch))


def _run_id(meta: dict[str, Any]) -> str:
    return str(meta.get("run_id") or meta["run_uuid"])


def import_run_batch(
    store: SqlStore,
    options: ImportOptions,
    locations: dict[str, str],
    dataset_ids: dict[tuple[str, str], str],
    batch: list[tuple[str, dict[str, Any]]],
    counts: Counter[str],
) -> None:
    """One transaction of runs: their rows, params, tags, histories and inputs."""
    rows, params, tags = [], [], []
    chunks: Rows = []
    latest: Rows = []
    points = 0
    inputs: InputRows = ([], [], [], [])
    for directory, meta in batch:
        run_id = _run_id(meta)
        run_tags = mr.key_values(os.path.join(directory, "tags"))
        status = meta.get("status", 1)
        rows.append(
            (
                run_id,
                _eid(meta),
                meta.get("run_name") or run_tags.get("mlflow.runName"),
                meta.get("user_id"),
                mr.RUN_STATUS.get(status, str(status)) if isinstance(status, int) else status,
                meta.get("start_time"),
                meta.get("end_time"),
                meta.get("deleted_time"),
                meta.get("lifecycle_stage") or "active",
                _files_at(meta.get("artifact_uri"), os.path.join(directory, "artifacts"))
                if options.copy_artifacts
                else meta.get("artifact_uri"),
            )
        )
        params += [
            {"run_uuid": run_id, "key": k, "value": v}
            for k, v in mr.key_values(os.path.join(directory, "params")).items()
        ]
        tags += [{"run_uuid": run_id, "key": k, "value": v} for k, v in run_tags.items()]
        for key, (steps, timestamps, values) in mr.metric_series(directory).items():
            points += series_rows(run_id, key, steps, timestamps, values, chunks, latest)
        _inputs(directory, run_id, _eid(meta), dataset_ids, inputs)
    metric_rows: MetricRows = (chunks, latest, points)
    write_runs(store, options, locations, rows, params, tags, metric_rows, inputs, counts)


def _inputs(
    directory: str,
    run_id: str,
    experiment_id: str,
    dataset_ids: dict[tuple[str, str], str],
    into: InputRows,
) -> None:
    """A run's dataset inputs (with their tags), model inputs and model outputs."""
    links, input_tags, models_in, models_out = into
    first_link, first_model = len(links), len(models_in)  # positions count from 0 per run
    for meta in mr.vertices(directory, "inputs"):
        source_id = str(meta.get("source_id"))
        if meta.get("source_type") == "DATASET":
            dataset_uuid = dataset_ids.get((experiment_id, source_id))
            if dataset_uuid is None:
                continue  # MLflow skips an input whose dataset is missing, too
            links.append(
                {
                    "run_uuid": run_id,
                    "dataset_uuid": dataset_uuid,
                    "position": len(links) - first_link,
                }
            )
            input_tags += [
                {"run_uuid": run_id, "dataset_uuid": dataset_uuid, "key": k, "value": v}
                for k, v in (meta.get("tags") or {}).items()
            ]
        elif meta.get("source_type") == "MODEL":
            position = len(models_in) - first_model
            models_in.append({"run_uuid": run_id, "model_id": source_id, "position": position})
    for meta in mr.vertices(directory, "outputs"):
        if meta.get("destination_type") == "MODEL_OUTPUT":
            # The FileStore writes the model id as both source and destination.
            models_out.append(
                {"run_uuid": run_id, "model_id": meta["source_id"], "step": meta.get("step") or 0}
            )


def _import_traces(
    store: SqlStore,
    options: ImportOptions,
    experiments: list[tuple[str, dict[str, Any]]],
    locations: dict[str, str],
    counts: Counter[str],
) -> None:
    """Traces with their tags, metadata and spans (the spans the FileStore keeps in the
    trace's artifact directory, ``traces.json``, are written into the tracking store)."""
    from tracklet.entities import Span, TraceInfo
    from tracklet.entities.trace import TraceTagKey

    done = present(store, "SELECT trace_id FROM trace_info")
    traces = []
    for experiment_dir, meta in experiments:
        eid = _eid(meta)
        for directory, data in mr.trace_dirs(experiment_dir):
            info = TraceInfo.from_dict(data)
            if info.trace_id in done:
                continue
            tags = mr.key_values(os.path.join(directory, "tags"))
            metadata = mr.key_values(os.path.join(directory, "request_metadata"))
            artifacts = _files_at(
                tags.get(TraceTagKey.ARTIFACT_LOCATION), os.path.join(directory, "artifacts")
            )
            spans = [Span.from_dict(s) for s in _span_dicts(artifacts)]
            if options.copy_artifacts and artifacts:
                target = posixpath.join(locations[eid], "traces", info.trace_id, "artifacts")
                copy_tree(artifacts, target)
                tags[TraceTagKey.ARTIFACT_LOCATION] = target
            info = TraceInfo(
                trace_id=info.trace_id,
                trace_location=info.trace_location,
                request_time=info.request_time,
                state=info.state,
                request_preview=info.request_preview,
                response_preview=info.response_preview,
                client_request_id=info.client_request_id,
                execution_duration=info.execution_duration,
                trace_metadata=metadata,
                tags=tags,
            )
            traces.append((info, int(eid), spans))
    write_traces(store, *trace_rows(traces), counts)


def _span_dicts(artifact_location: str | None) -> list[dict[str, Any]]:
    """The spans of a trace's ``traces.json`` (MLflow's TraceData dict); none when absent."""
    path = local_path(artifact_location) if artifact_location else None
    if path is None or not os.path.isfile(os.path.join(path, "traces.json")):
        return []
    with open(os.path.join(path, "traces.json"), encoding="utf-8") as file:
        data = json.load(file)
    return list(data.get("spans") or [])


def _import_registry(root: str, store: SqlStore, counts: Counter[str]) -> None:
    """Registered models with their versions, tags and aliases (``mlruns/models``)."""
    models, versions, model_tags, version_tags, aliases = [], [], [], [], []
    for directory, meta in mr.registered_models(root):
        name = meta["name"]
        models.append(
            {
                "name": name,
                "creation_time": meta.get("creation_timestamp") or 0,
                "last_updated_time": meta.get("last_updated_timestamp")
                or meta.get("creation_timestamp")
                or 0,
                "description": meta.get("description"),
            }
        )
        model_tags += [
            {"name": name, "key": k, "value": v}
            for k, v in mr.key_values(os.path.join(directory, "tags")).items()
        ]
        named = {str(k): v for k, v in (meta.get("aliases") or {}).items()}
        named.update(mr.key_values(os.path.join(directory, "aliases")))
        aliases += [
            {"name": name, "alias": alias, "version": int(version)}
            for alias, version in named.items()
        ]
        for version_dir, v in mr.model_versions(directory):
            number = int(v["version"])
            created = v.get("creation_timestamp") or 0
            versions.append(
                {
                    "name": name,
                    "version": number,
                    "creation_time": created,
                    "last_updated_time": v.get("last_updated_timestamp") or created,
                    "description": v.get("description"),
                    "user_id": v.get("user_id"),
                    "current_stage": v.get("current_stage") or "None",
                    "source": v.get("source"),
                    "storage_location": v.get("storage_location") or v.get("source"),
                    "run_id": v.get("run_id"),
                    "run_link": v.get("run_link"),
                    "status": v.get("status") or "READY",
                    "status_message": v.get("status_message"),
                    "model_id": v.get("model_id"),
                }
            )
            version_tags += [
                {"name": name, "version": number, "key": k, "value": val}
                for k, val in mr.key_values(os.path.join(version_dir, "tags")).items()
            ]
    write_registry(store, models, versions, model_tags, version_tags, aliases, counts)
