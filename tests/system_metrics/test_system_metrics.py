"""System metrics: MLflow 3.17.2's keys, steps, settings and lifecycle (mlflow is the oracle)."""

from __future__ import annotations

import os
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest

import tracklet
from tracklet.entities import Metric
from tracklet.exceptions import MlflowException
from tracklet.system_metrics import SystemMetricsMonitor, probes
from tracklet.system_metrics.probes import Probe


def _monitor_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "SystemMetricsMonitor" and t.is_alive()]


def _system_history(client: Any, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]


def test_same_keys_and_steps_as_mlflow(tmp_path: Path, sqlite_uri: str) -> None:
    import mlflow

    mlflow.set_system_metrics_sampling_interval(0.2)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    with mlflow.start_run(log_system_metrics=True) as run:
        time.sleep(1.0)
    expected = mlflow.get_run(run.info.run_id).data.metrics
    mlflow_steps = {m.step for m in mlflow.MlflowClient().get_metric_history(
        run.info.run_id, "system/cpu_utilization_percentage")}  # fmt: skip

    tracklet.set_system_metrics_sampling_interval(0.2)
    tracklet.set_tracking_uri(sqlite_uri)
    with tracklet.start_run(log_system_metrics=True) as ours:
        time.sleep(1.0)
    logged = tracklet.get_run(ours.info.run_id).data.metrics
    assert set(logged) == set(expected)
    assert {k for k in logged if k.startswith("system/")} == set(logged)
    assert "system/cpu_utilization_percentage" in logged
    assert "system/network_receive_megabytes" in logged
    steps = [s for s, _ in _system_history(
        tracklet.MlflowClient(), ours.info.run_id, "system/disk_usage_percentage")]  # fmt: skip
    assert steps == list(range(len(steps)))  # 0, 1, 2, ... as MLflow's
    assert min(mlflow_steps) == min(steps) == 0
    assert 0 < logged["system/disk_usage_percentage"] <= 100
    assert _monitor_threads() == []  # end_run stopped it


def _system_metrics_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if "SYSTEM_METRICS" in k}


def test_settings_write_mlflows_environment_variables() -> None:
    import mlflow

    calls = [
        ("enable_system_metrics_logging", ()),
        ("set_system_metrics_sampling_interval", (0.5,)),
        ("set_system_metrics_samples_before_logging", (3,)),
        ("set_system_metrics_node_id", ("node_0",)),
    ]
    for name, args in calls:
        getattr(mlflow, name)(*args)
    theirs = {
        k: v for k, v in os.environ.items() if k.startswith("MLFLOW_SYSTEM") or "SYSTEM_M" in k
    }
    for name in theirs:
        del os.environ[name]
    for name, args in calls:
        getattr(tracklet, name)(*args)
    ours = _system_metrics_environment()
    assert ours == theirs
    assert len(ours) == 4
    tracklet.set_system_metrics_node_id(None)
    tracklet.set_system_metrics_sampling_interval(None)
    tracklet.disable_system_metrics_logging()
    assert "MLFLOW_SYSTEM_METRICS_NODE_ID" not in os.environ
    assert "MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL" not in os.environ
    assert os.environ["MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING"].lower() == "false"


class _Counter(Probe):
    """A probe whose n-th sample reads n."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def sample(self) -> None:
        self.n += 1
        self.samples["count"].append(float(self.n))


def test_samples_are_averaged_per_step_with_node_id(sqlite_uri: str) -> None:
    tracklet.set_tracking_uri(sqlite_uri)
    tracklet.set_system_metrics_samples_before_logging(3)
    tracklet.set_system_metrics_node_id("node_7")
    client = tracklet.MlflowClient()
    run = tracklet.start_run()
    monitor = SystemMetricsMonitor(run.info.run_id, client=client, probes=[_Counter()])
    assert (monitor.samples_before_logging, monitor.prefix) == (3, "system/node_7/")
    for _ in range(6):
        monitor.sample()
        if monitor.probes[0].samples["count"].__len__() == 3:
            monitor.publish()
    tracklet.end_run()
    # (1+2+3)/3 at step 0, (4+5+6)/3 at step 1.
    assert _system_history(client, run.info.run_id, "system/node_7/count") == [(0, 2.0), (1, 5.0)]


def test_loop_logs_until_end_run_and_resume_continues_steps(sqlite_uri: str) -> None:
    tracklet.set_tracking_uri(sqlite_uri)
    tracklet.set_system_metrics_sampling_interval(0.05)
    tracklet.enable_system_metrics_logging()  # the environment opts runs in
    with tracklet.start_run() as run:
        time.sleep(0.4)
        assert len(_monitor_threads()) == 1
    assert _monitor_threads() == []
    client = tracklet.MlflowClient()
    first = _system_history(client, run.info.run_id, "system/cpu_utilization_percentage")
    assert len(first) >= 2
    time.sleep(0.15)  # a stopped monitor logs nothing more
    assert _system_history(client, run.info.run_id, "system/cpu_utilization_percentage") == first
    with tracklet.start_run(run_id=run.info.run_id):
        time.sleep(0.3)
    steps = [
        s for s, _ in _system_history(client, run.info.run_id, "system/cpu_utilization_percentage")
    ]
    assert steps == list(range(len(steps)))  # resumed at the step after the last one
    assert len(steps) > len(first)
    with tracklet.start_run(log_system_metrics=False) as opted_out:
        assert _monitor_threads() == []
    assert tracklet.get_run(opted_out.info.run_id).data.metrics == {}


def test_missing_psutil_names_the_extra(monkeypatch: pytest.MonkeyPatch, sqlite_uri: str) -> None:
    import importlib.util

    tracklet.set_tracking_uri(sqlite_uri)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "psutil" else real(name, *a)
    )
    with pytest.raises(MlflowException, match=r"tracklet\[system-metrics\]"):
        tracklet.start_run(log_system_metrics=True)
    assert tracklet.active_run() is None
    assert tracklet.search_runs(output_format="list") == []  # nothing half-made


class _FakeNvml(types.ModuleType):
    """NVML's functions as MLflow's GPU monitor calls them, for two GPUs (one without power)."""

    class NVMLError(Exception):
        pass

    def __init__(self) -> None:
        super().__init__("pynvml")

    def nvmlInit(self) -> None:
        pass

    def nvmlDeviceGetCount(self) -> int:
        return 2

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        return i

    def nvmlDeviceGetMemoryInfo(self, h: int) -> Any:
        return types.SimpleNamespace(used=(h + 1) * 3e9, total=16e9)

    def nvmlDeviceGetUtilizationRates(self, h: int) -> Any:
        return types.SimpleNamespace(gpu=40 + h)

    def nvmlDeviceGetPowerUsage(self, h: int) -> int:
        if h == 1:
            raise self.NVMLError("not supported")
        return 123_456

    def nvmlDeviceGetEnforcedPowerLimit(self, h: int) -> int:
        return 300_000


def test_gpu_probe_matches_mlflows_gpu_monitor(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow.system_metrics.metrics import gpu_monitor

    fake = _FakeNvml()
    monkeypatch.setitem(__import__("sys").modules, "pynvml", fake)
    monkeypatch.setattr(gpu_monitor, "pynvml", fake, raising=False)
    theirs = gpu_monitor.GPUMonitor()
    ours = probes.NvidiaGpuProbe()
    for _ in range(2):
        theirs.collect_metrics()
        ours.sample()
    assert ours.aggregate() == theirs.aggregate_metrics()
    assert "gpu_1_memory_usage_megabytes" in ours.aggregate()
    assert "gpu_1_power_usage_watts" not in ours.aggregate()
    assert [type(p).__name__ for p in probes.default_probes()][-1] == "NvidiaGpuProbe"


def test_cpu_disk_network_probes_match_mlflows_keys() -> None:
    from mlflow.system_metrics.metrics.cpu_monitor import CPUMonitor
    from mlflow.system_metrics.metrics.disk_monitor import DiskMonitor
    from mlflow.system_metrics.metrics.network_monitor import NetworkMonitor

    for theirs, ours in [
        (CPUMonitor(), probes.CpuProbe()),
        (DiskMonitor(), probes.DiskProbe()),
        (NetworkMonitor(), probes.NetworkProbe()),
    ]:
        theirs.collect_metrics()
        ours.sample()
        assert set(ours.aggregate()) == set(theirs.aggregate_metrics())
        ours.clear()
        assert ours.aggregate() == {}


def test_publish_queues_through_the_async_logger(sqlite_uri: str) -> None:
    tracklet.set_tracking_uri(sqlite_uri)
    client = tracklet.MlflowClient()
    run = tracklet.start_run()
    seen: list[tuple[list[Metric], object]] = []
    original = client.log_batch

    def spy(run_id: str, metrics: Any = (), synchronous: Any = None, **kw: Any) -> Any:
        seen.append((list(metrics), synchronous))
        return original(run_id, metrics=metrics, synchronous=synchronous, **kw)

    client.log_batch = spy  # type: ignore[method-assign]
    monitor = SystemMetricsMonitor(run.info.run_id, client=client, probes=[_Counter()])
    monitor.sample()
    monitor.publish()
    tracklet.end_run()
    assert [(m.key, m.value, m.step) for m in seen[0][0]] == [("system/count", 1.0, 0)]
    assert seen[0][1] is False
    assert _system_history(client, run.info.run_id, "system/count") == [(0, 1.0)]


def test_monitor_takes_mlflows_arguments(sqlite_uri: str) -> None:
    import inspect

    from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor as Theirs

    theirs = list(inspect.signature(Theirs).parameters)
    assert list(inspect.signature(SystemMetricsMonitor).parameters)[: len(theirs)] == theirs
    tracklet.set_tracking_uri(sqlite_uri)
    run_id = tracklet.start_run().info.run_id
    monitor = SystemMetricsMonitor(run_id, sampling_interval=0.05, tracking_uri=sqlite_uri)
    monitor.start()
    time.sleep(0.3)
    monitor.finish()
    tracklet.end_run()
    assert "system/cpu_utilization_percentage" in tracklet.get_run(run_id).data.metrics
