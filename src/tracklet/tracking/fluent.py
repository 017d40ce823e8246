"""MLflow's fluent API: module-level functions around an active run.

Thin delegation to :class:`MlflowClient`; all run state lives in ``_state``. A run is started
automatically by the logging functions when none is active, as in MLflow. This module logs
run data and gathers the rest: experiments (``fluent_experiments``), the run lifecycle
(``fluent_runs``) and the searches (``fluent_search``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from tracklet.entities import (
    DatasetInput,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    RunTag,
)
from tracklet.tracking import _state, system_tags
from tracklet.tracking.async_logging import RunOperations, flush_all
from tracklet.tracking.client import MlflowClient
from tracklet.tracking.context import current_client, dataset_entity
from tracklet.tracking.fluent_experiments import (
    create_experiment,
    delete_experiment,
    delete_experiment_tag,
    get_experiment,
    get_experiment_by_name,
    rename_experiment,
    restore_experiment,
    set_experiment,
    set_experiment_tag,
    set_experiment_tags,
)
from tracklet.tracking.fluent_runs import (
    ActiveRun,
    active_run,
    delete_run,
    end_run,
    get_parent_run,
    get_run,
    last_active_run,
    restore_run,
    start_run,
)
from tracklet.tracking.fluent_search import search_experiments, search_runs
from tracklet.tracking.uri import get_tracking_uri, set_tracking_uri

_logger = logging.getLogger(__name__)

__all__ = [
    "ActiveRun",
    "active_run",
    "create_experiment",
    "delete_experiment",
    "delete_experiment_tag",
    "delete_run",
    "delete_tag",
    "end_run",
    "flush_async_logging",
    "get_experiment",
    "get_experiment_by_name",
    "get_parent_run",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "log_input",
    "log_inputs",
    "log_metric",
    "log_metrics",
    "log_outputs",
    "log_param",
    "log_params",
    "rename_experiment",
    "restore_experiment",
    "restore_run",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]


def _target(run_id: str | None) -> tuple[str, MlflowClient]:
    """The run to log to (``run_id``, else the active run, started if needed) and its client."""
    if run_id is None:
        stack = _state.run_stack()
        active = stack[-1] if stack else start_run()
        return active.info.run_id, active.client
    return run_id, current_client()


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    """Log a param of the active run; returns ``value``."""
    run_id, client = _target(None)
    return client.log_param(run_id, key, value, synchronous=synchronous)


def log_params(
    params: dict[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> RunOperations | None:
    run_id, client = _target(run_id)
    return client.log_batch(
        run_id, params=[Param(k, str(v)) for k, v in params.items()], synchronous=synchronous
    )


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
    dataset: Any | None = None,
) -> RunOperations | None:
    """Log one metric point to the active run (or ``run_id``)."""
    run_id, client = _target(run_id)
    if model_id is None:
        model_id = _state.active_model_id()
    dataset_name = dataset_digest = None
    if model_id is not None or dataset is not None:
        dataset_name, dataset_digest = _link_metric_inputs(client, run_id, model_id, dataset)
    return client.log_metric(
        run_id,
        key,
        value,
        timestamp=timestamp,
        step=step,
        synchronous=synchronous,
        dataset_name=dataset_name,
        dataset_digest=dataset_digest,
        model_id=model_id,
    )


def log_metrics(
    metrics: dict[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
    model_id: str | None = None,
    dataset: Any | None = None,
) -> RunOperations | None:
    """Log several metrics at one step, in one batch."""
    run_id, client = _target(run_id)
    if model_id is None:
        model_id = _state.active_model_id()
    dataset_name = dataset_digest = None
    if model_id is not None or dataset is not None:
        dataset_name, dataset_digest = _link_metric_inputs(client, run_id, model_id, dataset)
    timestamp = timestamp if timestamp is not None else _now_ms()
    step = step or 0
    batch = [
        Metric(key, value, timestamp, step, dataset_name, dataset_digest, model_id, run_id)
        if model_id or dataset_name
        else Metric(key, value, timestamp, step)
        for key, value in metrics.items()
    ]
    return client.log_batch(run_id, metrics=batch, synchronous=synchronous)


def _now_ms() -> int:
    return int(time.time() * 1000)


_linked_inputs: set[tuple[str, str | None, str | None, str | None]] = set()


def _link_metric_inputs(
    client: MlflowClient, run_id: str, model_id: str | None, dataset: Any | None
) -> tuple[str | None, str | None]:
    """Record the dataset and model a model metric refers to as inputs of the run (once per
    process: logging many points for one model must not repeat the write)."""
    entity = dataset_entity(dataset) if dataset is not None else None
    name, digest = (entity.name, entity.digest) if entity is not None else (None, None)
    key = (run_id, model_id, name, digest)
    if key not in _linked_inputs:
        datasets = [DatasetInput(entity)] if entity is not None else []
        models = [LoggedModelInput(model_id)] if model_id is not None else []
        client.log_inputs(run_id, datasets, models)
        if len(_linked_inputs) > 10_000:
            _linked_inputs.clear()
        _linked_inputs.add(key)
    return name, digest


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> RunOperations | None:
    run_id, client = _target(None)
    return client.set_tag(run_id, key, value, synchronous=synchronous)


def set_tags(tags: dict[str, Any], synchronous: bool | None = None) -> RunOperations | None:
    run_id, client = _target(None)
    return client.log_batch(
        run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()], synchronous=synchronous
    )


def delete_tag(key: str) -> None:
    run_id, client = _target(None)
    client.delete_tag(run_id, key)


def log_input(
    dataset: Any,
    context: str | None = None,
    tags: dict[str, Any] | None = None,
    model: Any | None = None,
) -> None:
    """Record that the active run used ``dataset`` (e.g. ``context="training"``)."""
    log_inputs(
        [dataset] if dataset is not None else None,
        [context],
        [tags],
        [model] if model is not None else None,
    )


def log_inputs(
    datasets: Sequence[Any] | None = None,
    contexts: Sequence[str | None] | None = None,
    tags_list: Sequence[dict[str, Any] | None] | None = None,
    models: Sequence[Any] | None = None,
) -> None:
    run_id, client = _target(None)
    dataset_inputs = []
    for i, dataset in enumerate(datasets or []):
        context = contexts[i] if contexts and i < len(contexts) else None
        tags = (tags_list[i] if tags_list and i < len(tags_list) else None) or {}
        input_tags = [InputTag(k, str(v)) for k, v in tags.items()]
        if context:
            input_tags.append(InputTag(system_tags.MLFLOW_DATASET_CONTEXT, context))
        dataset_inputs.append(DatasetInput(dataset_entity(dataset), input_tags))
    model_inputs = [
        LoggedModelInput(m if isinstance(m, str) else m.model_id) for m in (models or [])
    ]
    client.log_inputs(run_id, dataset_inputs, model_inputs)


def log_outputs(models: list[LoggedModelOutput] | None = None) -> None:
    run_id, client = _target(None)
    client.log_outputs(run_id, models or [])


def flush_async_logging() -> None:
    """Wait until every point logged with ``synchronous=False`` is written."""
    flush_all()
