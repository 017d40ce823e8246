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
from tracklet.entities.metric import new_metric
from tracklet.tracking import _state, background, system_tags
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
    """Log a param of the active run (started if none is active). A param is written once:
    another value for the same key is an error.

    Args:
        key: The param's name.
        value: The value; stringified, at most 6,000 characters.
        synchronous: False queues the write and returns at once; None follows
            ``MLFLOW_ENABLE_ASYNC_LOGGING``.

    Returns:
        ``value``, as given.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a bad key, an over-long value or a
            different value for a logged key.

    Example::

        with tracklet.start_run():
            tracklet.log_param("learning_rate", 0.01)
    """
    run_id, client = _target(None)
    return client.log_param(run_id, key, value, synchronous=synchronous)


def log_params(
    params: dict[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> RunOperations | None:
    """Log several params at once (see ``log_param``), all or none.

    Args:
        params: Params to log; values are stringified.
        synchronous: False queues the write and returns at once; None follows
            ``MLFLOW_ENABLE_ASYNC_LOGGING``.
        run_id: The run; the active run (started if needed) if None.

    Returns:
        A RunOperations when queued, else None.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a bad key or value (naming it).
    """
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
    """Log one point of a metric to the active run (started if none is active) or ``run_id``.

    Args:
        key: The metric's name (letters, digits and ``_-. /``, at most 250 characters).
        value: The value; NaN and +/-inf are stored as such.
        step: The training step, any int64; 0 by default.
        synchronous: False queues the point and returns at once; None follows
            ``MLFLOW_ENABLE_ASYNC_LOGGING``.
        timestamp: Milliseconds since the epoch; now by default.
        run_id: The run; the active run if None.
        model_id: The logged model the value describes; the active model by default.
        dataset: The tracklet (or MLflow) dataset the value was computed on.

    Returns:
        A RunOperations when queued, else None.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a bad key, value, timestamp or step.

    Example::

        with tracklet.start_run():
            for epoch in range(3):
                tracklet.log_metric("loss", 1.0 / (epoch + 1), step=epoch)
    """
    if run_id is None and model_id is None and dataset is None:
        # The hot path of training loops (with synchronous=False, a few microseconds all told):
        # the thread's active run, nothing to link. Read the thread state once, no helpers.
        state = _state.local.state
        stack = state.run_stack
        if stack and state.active_model_id is None:
            active = stack[-1]
            return active.client.log_metric(
                active.info.run_id, key, value, timestamp, step, synchronous
            )
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
    """Log several metrics at one step, in one batch.

    Args:
        metrics: ``{name: value}`` of the metrics to log.
        step: The training step, any int64; 0 by default.
        synchronous: False queues the points and returns at once; None follows
            ``MLFLOW_ENABLE_ASYNC_LOGGING``.
        run_id: The run; the active run (started if needed) if None.
        timestamp: Milliseconds since the epoch, the same for every point; now by default.
        model_id: The logged model the values describe; the active model by default.
        dataset: The tracklet (or MLflow) dataset the values were computed on.

    Returns:
        A RunOperations when queued, else None.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a bad key or value (naming it).

    Example::

        tracklet.log_metrics({"precision": 0.8, "recall": 0.7}, step=10)
    """
    run_id, client = _target(run_id)
    if model_id is None:
        model_id = _state.active_model_id()
    dataset_name = dataset_digest = None
    if model_id is not None or dataset is not None:
        dataset_name, dataset_digest = _link_metric_inputs(client, run_id, model_id, dataset)
    timestamp = timestamp if timestamp is not None else _now_ms()
    step = step or 0
    if not (model_id or dataset_name) and client._log_metric_step(
        run_id, metrics, timestamp, step, synchronous
    ):
        return None
    if model_id or dataset_name:
        batch = [
            Metric(key, value, timestamp, step, dataset_name, dataset_digest, model_id, run_id)
            for key, value in metrics.items()
        ]
    else:
        # The unchecked constructor (twice as fast): the store checks every point.
        batch = [
            new_metric(key, value, timestamp, step, None, None, None, None)
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
    """Set a tag on the active run (started if none is active).

    Args:
        key: The tag's name.
        value: The value; stringified, at most 8,000 characters.
        synchronous: False queues the write and returns at once; None follows
            ``MLFLOW_ENABLE_ASYNC_LOGGING``.

    Returns:
        A RunOperations when queued, else None.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a bad key or an over-long value.
    """
    run_id, client = _target(None)
    return client.set_tag(run_id, key, value, synchronous=synchronous)


def set_tags(tags: dict[str, Any], synchronous: bool | None = None) -> RunOperations | None:
    """Set several tags on the active run (started if none is active), in one batch.

    Args:
        tags: Tags to set; values are stringified.
        synchronous: False queues the write and returns at once; None follows
            ``MLFLOW_ENABLE_ASYNC_LOGGING``.

    Returns:
        A RunOperations when queued, else None.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a bad key or value (naming it).
    """
    run_id, client = _target(None)
    return client.log_batch(
        run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()], synchronous=synchronous
    )


def delete_tag(key: str) -> None:
    """Delete a tag of the active run (started if none is active).

    Args:
        key: The tag's name.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST if the run has no such tag.
    """
    run_id, client = _target(None)
    client.delete_tag(run_id, key)


def log_input(
    dataset: Any,
    context: str | None = None,
    tags: dict[str, Any] | None = None,
    model: Any | None = None,
) -> None:
    """Record that the active run (started if none is active) used a dataset, or a model.

    Args:
        dataset: A dataset from ``tracklet.data`` (``from_pandas``, ``from_numpy``, ...), or
            None when logging only a model.
        context: What the dataset was used for, e.g. ``"training"`` (its
            ``mlflow.data.context`` input tag).
        tags: More input tags; values are stringified.
        model: A logged model (or its id) the run used.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for an object that is not a dataset.

    Example::

        dataset = tracklet.data.from_pandas(df, name="train")
        tracklet.log_input(dataset, context="training")
    """
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
    """Record several datasets and models the active run (started if none is active) used.

    Args:
        datasets: Datasets from ``tracklet.data``.
        contexts: Each dataset's context (``"training"``, ...), by position; may be shorter.
        tags_list: Each dataset's input tags, by position; may be shorter.
        models: Logged models (or their ids) the run used.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for an object that is not a dataset.
    """
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
    """Record logged models the active run (started if none is active) produced.

    Args:
        models: LoggedModelOutput entities (model id and step).

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown model.
    """
    run_id, client = _target(None)
    client.log_outputs(run_id, models or [])


def flush_async_logging() -> None:
    """Wait until every point logged with ``synchronous=False`` is written (by every client),
    and every artifact queued off the caller's thread (autologging's plots)."""
    background.wait()
    flush_all()
