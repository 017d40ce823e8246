"""All process and thread state of the tracking API, in one place, with ``reset()`` for tests.

- the tracking URI set by ``set_tracking_uri`` (process-wide, as in MLflow), and the client for
  the URI in force (``context.current_client``)
- the active experiment id (process-wide)
- each thread's stack of active runs, its last ended run, its last logged model and its active
  model (per thread, as in MLflow)
- every run this process started and has not ended, across threads (ended at exit)

A forked child starts with no active runs: runs belong to the process that started them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from tracklet import env

if TYPE_CHECKING:
    from tracklet.tracking.client import MlflowClient
    from tracklet.tracking.fluent import ActiveRun


class ThreadState:
    """One thread's state: a plain object, so that after one thread-local lookup (the costly
    part, ~0.1 us) its fields cost what any attribute does (the logging hot path reads two)."""

    __slots__ = ("active_model_id", "last_active_run_id", "last_logged_model_id", "run_stack")

    def __init__(self) -> None:
        self.run_stack: list[ActiveRun] = []
        self.last_active_run_id: str | None = None
        self.last_logged_model_id: str | None = None
        # As in MLflow, a thread starts with the model MLFLOW_ACTIVE_MODEL_ID names (read once,
        # not on every log call); set_active_model / clear_active_model change it.
        self.active_model_id: str | None = env.MLFLOW_ACTIVE_MODEL_ID.get()


class _Local(threading.local):
    def __init__(self) -> None:  # run in each thread on its first access
        self.state = ThreadState()


tracking_uri: str | None = None
# (uri, client): the client ``context.current_client`` made for that URI.
client_cache: tuple[str, MlflowClient] | None = None
active_experiment_id: str | None = None
# Each thread's ThreadState is ``local.state`` (read it anew each time: reset() replaces it).
local = _Local()
# run_id -> the ActiveRun, for every run started here and not yet ended (any thread).
open_runs: dict[str, ActiveRun] = {}
lock = threading.RLock()
# Called to wait for traces finished but not yet written (the tracing exporter registers one).
trace_flushers: list[Callable[[], object]] = []


def run_stack() -> list[ActiveRun]:
    return local.state.run_stack


def last_active_run_id() -> str | None:
    return local.state.last_active_run_id


def set_last_active_run_id(run_id: str | None) -> None:
    local.state.last_active_run_id = run_id


def thread() -> ThreadState:
    """This thread's state (run stack, last run and model, active model)."""
    return local.state


def active_model_id() -> str | None:
    """The active model of this thread (initially ``MLFLOW_ACTIVE_MODEL_ID``), or None."""
    return local.state.active_model_id


def reset() -> None:
    """Forget every run, experiment, URI choice and cached client (tests; a fresh start)."""
    global tracking_uri, client_cache, active_experiment_id, local
    tracking_uri = None
    client_cache = None
    active_experiment_id = None
    local = _Local()
    open_runs.clear()


def _after_fork_in_child() -> None:
    global local, lock
    local = _Local()
    lock = threading.RLock()
    open_runs.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
