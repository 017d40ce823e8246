"""The fluent run functions: start (or resume) and end the active run, read, delete, restore.

Each thread has its own stack of active runs (``_state``); runs this process leaves open are
ended at exit, FAILED if an uncaught exception ended it.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import sys
import time
from types import TracebackType
from typing import Any

from tracklet import env, system_metrics
from tracklet.entities import LifecycleStage, Run, RunStatus, RunTag
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.tracking import _state, background, system_tags
from tracklet.tracking.client import MlflowClient
from tracklet.tracking.context import current_client, current_experiment_id

_logger = logging.getLogger(__name__)


class ActiveRun(Run):
    """The run ``start_run`` returns; as a context manager it ends the run on exit, FAILED if
    the block raised. It keeps the client of the store it lives in, so logging to it goes there
    (and the hot logging path need not resolve the tracking URI on every call).

    Args:
        run: The run to wrap.
        client: The client of the run's store; the client for the tracking URI in force if
            None.
    """

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
        log_system_metrics: Log CPU, memory, disk, network and GPU usage as ``system/...``
            metrics on a background thread until the run ends (``tracklet.system_metrics``);
            None follows ``MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING``.

    Returns:
        The ActiveRun; use it in a ``with`` block to end it on exit.

    Raises:
        MlflowException: if a run is active and ``nested`` is False; for a deleted run or
            parent; INVALID_PARAMETER_VALUE for a description also given as a tag; for
            ``log_system_metrics`` without psutil installed (naming the extra).

    Example::

        with tracklet.start_run(run_name="parent"):
            with tracklet.start_run(run_name="child", nested=True):
                tracklet.log_param("depth", 2)
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
    if log_system_metrics is None:
        log_system_metrics = env.MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING.get()
    if log_system_metrics:
        _require_psutil()
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
    if log_system_metrics:
        try:
            system_metrics.start_monitor(run.info.run_id, client, resume=bool(existing_run_id))
        except Exception as exc:  # as MLflow: the run goes on without them, loudly
            _logger.error("Failed to start system metrics monitoring: %s", exc)
    stack.append(active)
    with _state.lock:
        _state.open_runs[active.info.run_id] = active
    return active


def _require_psutil() -> None:
    import importlib.util

    if importlib.util.find_spec("psutil") is None:
        raise MlflowException(
            "Failed to start system metrics monitoring as package `psutil` is not installed. "
            "Run `pip install 'tracklet[system-metrics]'` (or `pip install psutil`), or turn "
            "system metrics off with `start_run(log_system_metrics=False)` or "
            "`tracklet.disable_system_metrics_logging()`."
        )


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
    """End the active run, if any, after writing its queued points.

    Args:
        status: The run's final status: ``"FINISHED"``, ``"FAILED"`` or ``"KILLED"``.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for an unknown status.
    """
    _end_active_run(status, defer=False)


def end_run_after_background_work(status: str = RunStatus.FINISHED.name) -> None:
    """End the active run like :func:`end_run`, but without waiting for the work queued off
    this thread for it (autologging's model files): the run stops being active now and is
    ended, on the background worker, once that work is done. Its readers wait for it."""
    _end_active_run(status, defer=True)


def _end_active_run(status: str, defer: bool) -> None:
    stack = _state.run_stack()
    if not stack:
        return
    env.MLFLOW_RUN_ID.unset()
    run = stack.pop()
    run_id = run.info.run_id
    _state.set_last_active_run_id(run_id)
    with _state.lock:
        _state.open_runs.pop(run_id, None)
    # Stopped first, so ending the run writes the last points it queued.
    system_metrics.stop_monitor(run_id)
    client = run.client
    if defer and background.pending(run_id):
        RunStatus.from_string(status)  # a bad status is the caller's error, raised here
        end_time = int(time.time() * 1000)  # when the run ended for its user

        def end() -> None:
            client.set_terminated(run_id, status, end_time=end_time)

        background.submit(run_id, end)
        return
    background.wait(run_id)  # the run ends once everything queued for it is written
    client.set_terminated(run_id, status)


def active_run() -> ActiveRun | None:
    """The active run of this thread.

    Returns:
        The ActiveRun most recently started and not ended, or None.
    """
    stack = _state.run_stack()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    """The active run, else the run this thread ended last (fetched anew, so it has its
    final data).

    Returns:
        A Run, or None if this thread has started no run.
    """
    current = active_run()
    if current is not None:
        return current
    last_id = _state.last_active_run_id()
    return get_run(last_id) if last_id is not None else None


def get_run(run_id: str) -> Run:
    """Fetch a run with its latest metric values, params, tags, inputs and outputs.

    Args:
        run_id: The run's id.

    Returns:
        The Run (active or deleted).

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST if there is no such run.
    """
    return current_client().get_run(run_id)


def get_parent_run(run_id: str) -> Run | None:
    """Fetch the parent of a nested run.

    Args:
        run_id: The child run's id.

    Returns:
        The parent Run, or None if the run has no parent.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST if the run does not exist.
    """
    return current_client().get_parent_run(run_id)


def delete_run(run_id: str) -> None:
    """Mark a run deleted (``restore_run`` undoes it).

    Args:
        run_id: The run's id.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST if there is no such run.
    """
    current_client().delete_run(run_id)


def restore_run(run_id: str) -> None:
    """Restore a deleted run.

    Args:
        run_id: The run's id.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST if there is no such run.
    """
    current_client().restore_run(run_id)


def _end_runs_at_exit() -> None:
    """End every run this process left open: FAILED if an uncaught exception ended it."""
    failed = getattr(sys, "last_value", None) is not None
    status = RunStatus.FAILED.name if failed else RunStatus.FINISHED.name
    with _state.lock:
        runs = list(_state.open_runs.values())
        _state.open_runs.clear()
    for run in reversed(runs):
        system_metrics.stop_monitor(run.info.run_id)
        with contextlib.suppress(Exception):
            run.client.set_terminated(run.info.run_id, status)


atexit.register(_end_runs_at_exit)
