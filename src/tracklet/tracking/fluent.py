"""MLflow's fluent API: module-level functions around an active run.

Thin delegation to :class:`MlflowClient`; all run state lives in ``_state``. A run is started
automatically by the logging functions when none is active, as in MLflow.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import sys
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from tracklet import env
from tracklet.entities import (
    DatasetInput,
    Experiment,
    InputTag,
    LifecycleStage,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    Run,
    RunStatus,
    RunTag,
)
from tracklet.exceptions import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_ALREADY_EXISTS,
    MlflowException,
)
from tracklet.tracking import _state, system_tags
from tracklet.tracking.async_logging import RunOperations, flush_all
from tracklet.tracking.client import MlflowClient
from tracklet.tracking.context import current_client, current_experiment_id, dataset_entity
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


class ActiveRun(Run):
    """The run ``start_run`` returns; as a context manager it ends the run on exit, FAILED if
    the block raised. It keeps the client of the store it lives in, so logging to it goes there
    (and the hot logging path need not resolve the tracking URI on every call)."""

    client: MlflowClient

    def __init__(self, run: Run, client: MlflowClient | None = None) -> None:
        super().__init__(run.info, run.data, run.inputs, run.outputs)
        # The client is this subclass's own state, not a field of the frozen Run: it lives in
        # the instance dict (Run's generated __setattr__ refuses any assignment here).
        self.__dict__["client"] = client if client is not None else current_client()

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool:
        if any(r.info.run_id == self.info.run_id for r in _state.run_stack()):
            status = RunStatus.FINISHED if exc_type is None else RunStatus.FAILED
            end_run(status.name)
        return exc_type is None


# ---------------------------------------------------------------------- experiments


def create_experiment(
    name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
) -> str:
    """Create an experiment and return its id."""
    return current_client().create_experiment(name, artifact_location, tags)


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment active (created if it does not exist yet) and return it."""
    if (experiment_name is None) == (experiment_id is None):
        raise MlflowException(
            "Must specify exactly one of: `experiment_id` or `experiment_name`.",
            INVALID_PARAMETER_VALUE,
        )
    client = current_client()
    with _state.lock:
        if experiment_id is None:
            assert experiment_name is not None
            experiment = client.get_experiment_by_name(experiment_name)
            if experiment is None:
                _logger.info(
                    "Experiment with name '%s' does not exist. Creating a new experiment.",
                    experiment_name,
                )
                try:
                    new_id = client.create_experiment(experiment_name)
                except MlflowException as error:
                    if error.error_code != RESOURCE_ALREADY_EXISTS:
                        raise
                    found = client.get_experiment_by_name(experiment_name)
                    assert found is not None
                    new_id = found.experiment_id
                experiment = client.get_experiment(new_id)
        else:
            experiment = client.get_experiment(str(experiment_id))
        if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
            raise MlflowException(
                f"Cannot set a deleted experiment {experiment.name!r} as the active experiment. "
                "You can restore the experiment, or permanently delete the experiment to create "
                "a new one.",
                INVALID_PARAMETER_VALUE,
            )
        _state.active_experiment_id = experiment.experiment_id
        # Subprocesses (multiprocessing with spawn) then log to the same experiment.
        env.MLFLOW_EXPERIMENT_ID.set(experiment.experiment_id)
    return experiment


def get_experiment(experiment_id: str) -> Experiment:
    return current_client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    return current_client().get_experiment_by_name(name)


def delete_experiment(experiment_id: str) -> None:
    current_client().delete_experiment(experiment_id)


def restore_experiment(experiment_id: str) -> None:
    current_client().restore_experiment(experiment_id)


def rename_experiment(experiment_id: str, new_name: str) -> None:
    current_client().rename_experiment(experiment_id, new_name)


def set_experiment_tag(key: str, value: Any) -> None:
    current_client().set_experiment_tag(current_experiment_id(), key, value)


def set_experiment_tags(tags: dict[str, Any]) -> None:
    for key, value in tags.items():
        set_experiment_tag(key, value)


def delete_experiment_tag(key: str) -> None:
    current_client().delete_experiment_tag(current_experiment_id(), key)


# ---------------------------------------------------------------------- runs


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a new run, or resume ``run_id`` (or ``MLFLOW_RUN_ID``), and make it active.

    Args:
        run_id: An existing run to resume (set back to RUNNING).
        experiment_id: The experiment of a new run; by default the active experiment.
        run_name: The new run's name (random if not given).
        nested: Start a child of the active run instead of refusing while one is active.
        parent_run_id: The parent of the new run (must be the active run if there is one).
        tags: Tags for the run, on top of the system tags.
        description: The run's notes (``mlflow.note.content``).
        log_system_metrics: Accepted for MLflow compatibility; not collected.
    """
    stack = _state.run_stack()
    if experiment_id is not None:
        experiment_id = str(experiment_id)
    if stack and not nested:
        raise MlflowException(
            f"Run with UUID {stack[0].info.run_id} is already active. To start a new run, first "
            "end the current run with mlflow.end_run(). To start a nested run, call start_run "
            "with nested=True"
        )
    client = current_client()
    user_tags = {k: str(v) for k, v in (tags or {}).items()}
    if description:
        if system_tags.MLFLOW_RUN_NOTE in user_tags:
            raise MlflowException(
                f"Description is already set via the tag {system_tags.MLFLOW_RUN_NOTE} in tags. "
                f"Remove the key {system_tags.MLFLOW_RUN_NOTE} from the tags or omit the "
                "description.",
                INVALID_PARAMETER_VALUE,
            )
        user_tags[system_tags.MLFLOW_RUN_NOTE] = description
    existing_run_id = run_id or env.MLFLOW_RUN_ID.get()
    if not run_id and existing_run_id:
        env.MLFLOW_RUN_ID.unset()
    if existing_run_id:
        run = _resume_run(client, existing_run_id, run_name, user_tags)
    else:
        if parent_run_id:
            if stack and parent_run_id != stack[-1].info.run_id:
                raise MlflowException(
                    f"Current run with UUID {stack[-1].info.run_id} does not match the specified "
                    f"parent_run_id {parent_run_id}. To start a new nested run under the parent "
                    f"run with UUID {stack[-1].info.run_id}, first end the current run with "
                    "mlflow.end_run()."
                )
            if client.get_run(parent_run_id).info.lifecycle_stage == LifecycleStage.DELETED:
                raise MlflowException(
                    f"Cannot start run under parent run with ID {parent_run_id} because it is "
                    "in the deleted state."
                )
        elif stack:
            parent_run_id = stack[-1].info.run_id
        if parent_run_id is not None:
            user_tags[system_tags.MLFLOW_PARENT_RUN_ID] = parent_run_id
        if run_name:
            user_tags[system_tags.MLFLOW_RUN_NAME] = run_name
        run = client.create_run(
            experiment_id=experiment_id if experiment_id is not None else current_experiment_id(),
            tags=system_tags.resolve_tags(user_tags),
            run_name=run_name,
        )
    active = ActiveRun(run, client)
    stack.append(active)
    with _state.lock:
        _state.open_runs[active.info.run_id] = active
    return active


def _resume_run(
    client: MlflowClient, run_id: str, run_name: str | None, user_tags: dict[str, str]
) -> Run:
    run = client.get_run(run_id)
    active_experiment = _state.active_experiment_id
    if active_experiment is not None and active_experiment != run.info.experiment_id:
        raise MlflowException(
            f"Cannot start run with ID {run_id} because active experiment ID does not match "
            "environment run ID. Make sure --experiment-name or --experiment-id matches "
            "experiment set with set_experiment(), or just use command-line arguments"
        )
    if run.info.lifecycle_stage == LifecycleStage.DELETED:
        raise MlflowException(
            f"Cannot start run with ID {run_id} because it is in the deleted state."
        )
    # Its end time stays (MLflow passes it back unchanged): a store changes only what it gets.
    client.update_run(run_id, status=RunStatus.RUNNING.name, name=run_name)
    if user_tags:
        client.log_batch(run_id, tags=[RunTag(k, v) for k, v in user_tags.items()])
    return client.get_run(run_id)


def end_run(status: str = RunStatus.FINISHED.name) -> None:
    """End the active run (if any) with ``status``, after writing its queued points."""
    stack = _state.run_stack()
    if not stack:
        return
    env.MLFLOW_RUN_ID.unset()
    run = stack.pop()
    _state.set_last_active_run_id(run.info.run_id)
    with _state.lock:
        _state.open_runs.pop(run.info.run_id, None)
    run.client.set_terminated(run.info.run_id, status)


def active_run() -> ActiveRun | None:
    """The active run of this thread, or None."""
    stack = _state.run_stack()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    """The active run if there is one, else the last run this thread ended (fetched anew)."""
    current = active_run()
    if current is not None:
        return current
    last_id = _state.last_active_run_id()
    return get_run(last_id) if last_id is not None else None


def _target(run_id: str | None) -> tuple[str, MlflowClient]:
    """The run to log to (``run_id``, else the active run, started if needed) and its client."""
    if run_id is None:
        stack = _state.run_stack()
        active = stack[-1] if stack else start_run()
        return active.info.run_id, active.client
    return run_id, current_client()


def get_run(run_id: str) -> Run:
    return current_client().get_run(run_id)


def get_parent_run(run_id: str) -> Run | None:
    return current_client().get_parent_run(run_id)


def delete_run(run_id: str) -> None:
    current_client().delete_run(run_id)


def restore_run(run_id: str) -> None:
    current_client().restore_run(run_id)


# ---------------------------------------------------------------------- run data


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


# ---------------------------------------------------------------------- exit


def _end_runs_at_exit() -> None:
    """End every run this process left open: FAILED if an uncaught exception ended it."""
    failed = getattr(sys, "last_value", None) is not None
    status = RunStatus.FAILED.name if failed else RunStatus.FINISHED.name
    with _state.lock:
        runs = list(_state.open_runs.values())
        _state.open_runs.clear()
    for run in reversed(runs):
        with contextlib.suppress(Exception):
            run.client.set_terminated(run.info.run_id, status)


atexit.register(_end_runs_at_exit)
