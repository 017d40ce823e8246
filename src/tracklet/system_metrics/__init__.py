"""System metrics: CPU, memory, disk, network and GPU usage logged to a run as ``system/...``.

``start_run(log_system_metrics=True)`` (or ``enable_system_metrics_logging()``, or
``MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING=true``) starts a :class:`SystemMetricsMonitor` for the
run; ``end_run`` stops it. The settings are MLflow's environment variables, which the ``set_*``
functions write (as MLflow's do), so they reach child processes too.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from tracklet import env

if TYPE_CHECKING:
    from tracklet.system_metrics.monitor import SystemMetricsMonitor
    from tracklet.tracking.client import MlflowClient

__all__ = [
    "SystemMetricsMonitor",
    "disable_system_metrics_logging",
    "enable_system_metrics_logging",
    "set_system_metrics_node_id",
    "set_system_metrics_samples_before_logging",
    "set_system_metrics_sampling_interval",
]


def __getattr__(name: str) -> object:
    # The monitor (and its probes) load with the first monitored run, not at ``import tracklet``.
    if name == "SystemMetricsMonitor":
        from tracklet.system_metrics.monitor import SystemMetricsMonitor

        return SystemMetricsMonitor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_logger = logging.getLogger(__name__)
# run_id -> the monitor logging to it (any thread's runs).
_monitors: dict[str, SystemMetricsMonitor] = {}
_lock = threading.Lock()


def enable_system_metrics_logging() -> None:
    """Log system metrics for every run started from now on, unless a run opts out with
    ``start_run(log_system_metrics=False)`` (sets ``MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING``)."""
    env.MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING.set(True)


def disable_system_metrics_logging() -> None:
    """Stop logging system metrics by default; ``start_run(log_system_metrics=True)`` still
    opts a run in (sets ``MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING``)."""
    env.MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING.set(False)


def set_system_metrics_sampling_interval(interval: float | None) -> None:
    """Sample every ``interval`` seconds (10 by default; None restores the default).

    Args:
        interval: Seconds between samples.
    """
    _set_or_unset(env.MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL, interval)


def set_system_metrics_samples_before_logging(samples: int | None) -> None:
    """Log the average of every ``samples`` samples (1 by default; None restores the default).

    Args:
        samples: Samples per logged point.
    """
    _set_or_unset(env.MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING, samples)


def set_system_metrics_node_id(node_id: str | None) -> None:
    """Name this machine in the keys (``system/<node_id>/cpu_utilization_percentage``), to tell
    the nodes of a distributed job apart (None: no node id).

    Args:
        node_id: The node's name.
    """
    _set_or_unset(env.MLFLOW_SYSTEM_METRICS_NODE_ID, node_id)


def _set_or_unset(var: env.FloatVar | env.IntVar | env.StrVar, value: object) -> None:
    if value is None:
        var.unset()
    else:
        var.set(value)


def start_monitor(run_id: str, client: MlflowClient, resume: bool) -> None:
    """Start logging system metrics to a run that ``start_run`` just made active.

    Args:
        run_id: The run.
        client: The client of its store.
        resume: The run was resumed: continue after its last ``system/`` step.

    Raises:
        ImportError: if psutil is not installed (naming the extra to install).
    """
    from tracklet.system_metrics.monitor import SystemMetricsMonitor

    monitor = SystemMetricsMonitor(run_id, resume_logging=resume, client=client)
    with _lock:
        previous = _monitors.pop(run_id, None)
        _monitors[run_id] = monitor
    if previous is not None:
        previous.finish()
    monitor.start()


def stop_monitor(run_id: str) -> None:
    """Stop the run's monitor, if it has one (``end_run`` calls this before ending the run).

    Args:
        run_id: The run.
    """
    with _lock:
        monitor = _monitors.pop(run_id, None)
    if monitor is not None:
        monitor.finish()
