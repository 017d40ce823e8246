"""What a system metrics sample reads: CPU and memory, disk, network (psutil), NVIDIA GPUs (NVML).

Names, units and rounding are MLflow 3.17.2's (``mlflow/system_metrics/metrics/``), so a run
logged by tracklet shows the same ``system/...`` charts: each probe keeps the samples since the
last log and ``aggregate`` averages them (rounded to 0.1); the network counters are totals
since monitoring started, so they are reported as the latest value, not averaged.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from typing import Any

_logger = logging.getLogger(__name__)


class Probe:
    """One source of samples: ``sample()`` reads it now, ``aggregate()`` summarizes the samples
    since the last ``clear()``."""

    def __init__(self) -> None:
        self.samples: defaultdict[str, list[float]] = defaultdict(list)

    def sample(self) -> None:
        raise NotImplementedError

    def aggregate(self) -> dict[str, float]:
        return {k: round(sum(v) / len(v), 1) for k, v in self.samples.items() if v}

    def clear(self) -> None:
        self.samples.clear()


class CpuProbe(Probe):
    """CPU utilization (since the previous sample) and system memory in use."""

    def __init__(self) -> None:
        import psutil

        super().__init__()
        self._psutil = psutil

    def sample(self) -> None:
        self.samples["cpu_utilization_percentage"].append(self._psutil.cpu_percent())
        memory = self._psutil.virtual_memory()
        self.samples["system_memory_usage_megabytes"].append(memory.used / 1e6)
        self.samples["system_memory_usage_percentage"].append(memory.used / memory.total * 100)


class DiskProbe(Probe):
    """Usage of the file system holding the root directory (``os.sep``), as MLflow reads it."""

    def __init__(self) -> None:
        import psutil

        super().__init__()
        self._psutil = psutil

    def sample(self) -> None:
        usage = self._psutil.disk_usage(os.sep)
        self.samples["disk_usage_percentage"].append(usage.percent)
        self.samples["disk_usage_megabytes"].append(usage.used / 1e6)
        self.samples["disk_available_megabytes"].append(usage.free / 1e6)


class NetworkProbe(Probe):
    """Megabytes received and sent since the probe was made (the counters count from boot)."""

    def __init__(self) -> None:
        import psutil

        super().__init__()
        self._psutil = psutil
        counters = psutil.net_io_counters()
        self._received0 = counters.bytes_recv / 1e6
        self._sent0 = counters.bytes_sent / 1e6
        self._latest: dict[str, float] = {}

    def sample(self) -> None:
        counters = self._psutil.net_io_counters()
        self._latest["network_receive_megabytes"] = counters.bytes_recv / 1e6 - self._received0
        self._latest["network_transmit_megabytes"] = counters.bytes_sent / 1e6 - self._sent0

    def aggregate(self) -> dict[str, float]:
        return dict(self._latest)  # totals: the latest value, not an average (as MLflow)

    def clear(self) -> None:
        self._latest.clear()


class NvidiaGpuProbe(Probe):
    """Memory, utilization and power of each NVIDIA GPU, through NVML (``nvidia-ml-py``).

    Raises:
        ImportError: if ``nvidia-ml-py`` is not installed.
        RuntimeError: if NVML cannot start (no driver, no GPU).
    """

    def __init__(self) -> None:
        try:
            import pynvml
        except ImportError:
            raise ImportError(
                "`nvidia-ml-py` is not installed; to log GPU metrics run "
                "`pip install 'tracklet[system-metrics]'` (or `pip install nvidia-ml-py`)."
            ) from None
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as exc:
            raise RuntimeError(
                f"Failed to initialize NVML, skip logging GPU metrics: {exc}"
            ) from exc
        super().__init__()
        self._nvml: Any = pynvml
        self.handles = [
            pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())
        ]

    def sample(self) -> None:
        nvml = self._nvml
        for i, handle in enumerate(self.handles):
            # Each reading is separate: a GPU that cannot report power still reports memory.
            try:
                memory = nvml.nvmlDeviceGetMemoryInfo(handle)
                self.samples[f"gpu_{i}_memory_usage_percentage"].append(
                    round(memory.used / memory.total * 100, 1)
                )
                self.samples[f"gpu_{i}_memory_usage_megabytes"].append(memory.used / 1e6)
            except nvml.NVMLError as exc:
                _logger.warning("Could not read the memory of GPU %d: %s", i, exc)
            try:
                rates = nvml.nvmlDeviceGetUtilizationRates(handle)
                self.samples[f"gpu_{i}_utilization_percentage"].append(rates.gpu)
            except nvml.NVMLError as exc:
                _logger.warning("Could not read the utilization of GPU %d: %s", i, exc)
            try:
                milliwatts = nvml.nvmlDeviceGetPowerUsage(handle)
                limit = nvml.nvmlDeviceGetEnforcedPowerLimit(handle)
                self.samples[f"gpu_{i}_power_usage_watts"].append(milliwatts / 1000)
                self.samples[f"gpu_{i}_power_usage_percentage"].append(milliwatts / limit * 100)
            except nvml.NVMLError as exc:
                _logger.warning("Could not read the power usage of GPU %d: %s", i, exc)


def default_probes() -> list[Probe]:
    """CPU, disk and network, plus NVIDIA GPUs when NVML answers (as MLflow's monitor).

    Raises:
        ImportError: naming the extra, if psutil is not installed.
    """
    try:
        import psutil  # noqa: F401
    except ImportError:
        raise ImportError(
            "System metrics need psutil: run `pip install 'tracklet[system-metrics]'` (or "
            "`pip install psutil`), or turn them off with `start_run(log_system_metrics=False)` "
            "or `tracklet.disable_system_metrics_logging()`."
        ) from None
    probes: list[Probe] = [CpuProbe(), DiskProbe(), NetworkProbe()]
    try:
        probes.append(NvidiaGpuProbe())
    except (ImportError, RuntimeError) as exc:
        # No NVIDIA GPU is the common case: say so at INFO (MLflow does the same), not louder.
        _logger.info("Not logging GPU metrics: %s", exc)
        _warn_if_amd()
    return probes


def _warn_if_amd() -> None:
    import importlib.util

    if importlib.util.find_spec("pyrsmi") is not None:
        _logger.warning(
            "pyrsmi is installed but tracklet samples NVIDIA GPUs only: AMD GPU metrics "
            "(MLflow's ROCm monitor) are not logged."
        )
