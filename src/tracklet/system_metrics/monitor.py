"""The system metrics thread of one run: sample, average, log as ``system/...`` metrics.

MLflow 3.17.2's loop (``SystemMetricsMonitor.monitor``), step for step: take a sample, wait the
sampling interval (10 s by default), stop if the run is no longer RUNNING; after
``samples_before_logging`` samples (1 by default) log their averages at the next step (0, 1,
2, ...; a resumed run continues after the largest ``system/`` step it has). The points go
through the asynchronous logger (``log_batch(synchronous=False)``), so the thread never waits on
the store for a write; ``end_run`` stops the thread before it ends the run, and ending the run
writes what was queued.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from tracklet import env
from tracklet.entities import Metric
from tracklet.system_metrics.probes import Probe, default_probes

if TYPE_CHECKING:
    from tracklet.tracking.client import MlflowClient

_logger = logging.getLogger(__name__)

PREFIX = "system/"
DEFAULT_SAMPLING_INTERVAL = 10.0
DEFAULT_SAMPLES_BEFORE_LOGGING = 1


class SystemMetricsMonitor:
    """Samples the machine on a daemon thread and logs to one run.

    The arguments are MLflow's (``mlflow.system_metrics.system_metrics_monitor``), so code that
    drives a monitor itself (``start()`` ... ``finish()``) runs unchanged.

    Args:
        run_id: The run to log to.
        sampling_interval: Seconds between samples; ``MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL``
            wins when set.
        samples_before_logging: Samples averaged into each logged point;
            ``MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING`` wins when set.
        resume_logging: Continue after the run's largest ``system/`` step instead of at 0.
        node_id: Logged as ``system/<node_id>/...`` (multi-node training);
            ``MLFLOW_SYSTEM_METRICS_NODE_ID`` wins when set.
        tracking_uri: The run's store; the tracking URI in force if None.
        client: The client of the run's store (instead of ``tracking_uri``).
        probes: What to sample; CPU, disk, network and NVIDIA GPUs by default.

    Raises:
        ImportError: if psutil is not installed (naming the extra to install).
    """

    def __init__(
        self,
        run_id: str,
        sampling_interval: float = DEFAULT_SAMPLING_INTERVAL,
        samples_before_logging: int = DEFAULT_SAMPLES_BEFORE_LOGGING,
        resume_logging: bool = False,
        node_id: str | None = None,
        tracking_uri: str | None = None,
        *,
        client: MlflowClient | None = None,
        probes: list[Probe] | None = None,
    ) -> None:
        if client is None:
            from tracklet.tracking.client import MlflowClient

            client = MlflowClient(tracking_uri)
        self.run_id = run_id
        self.client = client
        self.sampling_interval = (
            env.MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL.get() or sampling_interval
        )
        self.samples_before_logging = (
            env.MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING.get() or samples_before_logging
        )
        self.node_id = env.MLFLOW_SYSTEM_METRICS_NODE_ID.get() or node_id
        self.probes = default_probes() if probes is None else probes
        self.step = self._next_step() if resume_logging else 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def prefix(self) -> str:
        """``system/``, or ``system/<node_id>/``."""
        return PREFIX + (f"{self.node_id}/" if self.node_id else "")

    def _next_step(self) -> int:
        try:
            run = self.client.get_run(self.run_id)
        except Exception:  # as MLflow: a run that cannot be read starts at 0
            return 0
        steps = [m.step for m in run.data.metric_objs if m.key.startswith(PREFIX)]
        return max(steps) + 1 if steps else 0

    def start(self) -> None:
        """Start the sampling thread (a daemon: it never keeps the process alive)."""
        self._thread = threading.Thread(target=self._loop, name="SystemMetricsMonitor", daemon=True)
        self._thread.start()
        _logger.info("Started monitoring system metrics.")

    def finish(self) -> None:
        """Stop the thread (at once: it waits on an event) and queue nothing more."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join()
        _logger.info("Stopped monitoring system metrics.")

    def _loop(self) -> None:
        while not self._stop.is_set():
            for _ in range(self.samples_before_logging):
                self.sample()
                if self._stop.wait(self.sampling_interval) or not self._run_is_running():
                    return
            try:
                self.publish()
            except Exception as exc:  # the run's store refused: nothing more will go in
                _logger.warning("Failed to log system metrics of run %s: %s", self.run_id, exc)
                return

    def _run_is_running(self) -> bool:
        try:
            status = self.client.get_run(self.run_id).info.status
        except Exception as exc:
            _logger.warning("Stopping system metrics: cannot read run %s: %s", self.run_id, exc)
            return False
        return status == "RUNNING"

    def sample(self) -> None:
        """Take one sample from every probe."""
        for probe in self.probes:
            probe.sample()

    def publish(self) -> None:
        """Queue the averages of the samples taken since the last publish at the next step."""
        prefix = self.prefix
        timestamp = int(time.time() * 1000)
        metrics = [
            Metric(prefix + key, value, timestamp, self.step)
            for probe in self.probes
            for key, value in probe.aggregate().items()
        ]
        for probe in self.probes:
            probe.clear()
        self.step += 1
        if metrics:
            self.client.log_batch(self.run_id, metrics=metrics, synchronous=False)
