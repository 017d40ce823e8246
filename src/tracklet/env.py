"""Every environment variable tracklet reads: typed, defaulted, and read only here.

Values are read on each call (not cached at import) so that ``os.environ`` changes made by a
user, a test or ``set_tracking_uri`` take effect at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class _Var(Generic[T]):
    name: str
    default: T

    def is_set(self) -> bool:
        return self.name in os.environ

    def raw(self) -> str | None:
        return os.environ.get(self.name)

    def set(self, value: object) -> None:
        os.environ[self.name] = str(value)

    def unset(self) -> None:
        os.environ.pop(self.name, None)


class StrVar(_Var[str | None]):
    def get(self) -> str | None:
        value = os.environ.get(self.name)
        return value if value else self.default


class BoolVar(_Var[bool]):
    def get(self) -> bool:
        value = os.environ.get(self.name)
        if value is None or value == "":
            return self.default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"{self.name} must be true or false, got {value!r}")


class IntVar(_Var[int]):
    def get(self) -> int:
        value = os.environ.get(self.name)
        if value is None or value == "":
            return self.default
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"{self.name} must be an integer, got {value!r}") from None


class FloatVar(_Var[float]):
    def get(self) -> float:
        value = os.environ.get(self.name)
        if value is None or value == "":
            return self.default
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{self.name} must be a number, got {value!r}") from None


# Tracking
MLFLOW_TRACKING_URI = StrVar("MLFLOW_TRACKING_URI", None)
MLFLOW_REGISTRY_URI = StrVar("MLFLOW_REGISTRY_URI", None)
MLFLOW_EXPERIMENT_NAME = StrVar("MLFLOW_EXPERIMENT_NAME", None)
MLFLOW_EXPERIMENT_ID = StrVar("MLFLOW_EXPERIMENT_ID", None)
MLFLOW_RUN_ID = StrVar("MLFLOW_RUN_ID", None)
MLFLOW_RUN_CONTEXT = StrVar("MLFLOW_RUN_CONTEXT", None)
MLFLOW_TRACKING_USERNAME = StrVar("MLFLOW_TRACKING_USERNAME", None)
MLFLOW_TRACKING_PASSWORD = StrVar("MLFLOW_TRACKING_PASSWORD", None)
MLFLOW_TRACKING_TOKEN = StrVar("MLFLOW_TRACKING_TOKEN", None)
MLFLOW_TRACKING_INSECURE_TLS = BoolVar("MLFLOW_TRACKING_INSECURE_TLS", False)
MLFLOW_TRACKING_SERVER_CERT_PATH = StrVar("MLFLOW_TRACKING_SERVER_CERT_PATH", None)
MLFLOW_TRACKING_CLIENT_CERT_PATH = StrVar("MLFLOW_TRACKING_CLIENT_CERT_PATH", None)
MLFLOW_ENABLE_ASYNC_LOGGING = BoolVar("MLFLOW_ENABLE_ASYNC_LOGGING", False)
MLFLOW_TRUNCATE_LONG_VALUES = BoolVar("MLFLOW_TRUNCATE_LONG_VALUES", True)
MLFLOW_ACTIVE_MODEL_ID = StrVar("MLFLOW_ACTIVE_MODEL_ID", None)

# System metrics (tracklet.system_metrics): 0 / "" mean "not set", as MLflow's ``or`` reads them.
MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING = BoolVar("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING", False)
MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL = FloatVar("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", 0.0)
MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING = IntVar(
    "MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING", 0
)
MLFLOW_SYSTEM_METRICS_NODE_ID = StrVar("MLFLOW_SYSTEM_METRICS_NODE_ID", None)

# HTTP client
MLFLOW_HTTP_REQUEST_MAX_RETRIES = IntVar("MLFLOW_HTTP_REQUEST_MAX_RETRIES", 7)
MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR = FloatVar("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", 2.0)
MLFLOW_HTTP_REQUEST_BACKOFF_JITTER = FloatVar("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", 1.0)
MLFLOW_HTTP_REQUEST_TIMEOUT = FloatVar("MLFLOW_HTTP_REQUEST_TIMEOUT", 120.0)

# Connecting to a tracking server takes at most this long (or the request timeout if smaller).
TRACKLET_HTTP_CONNECT_TIMEOUT = FloatVar("TRACKLET_HTTP_CONNECT_TIMEOUT", 10.0)

# S3 artifacts
MLFLOW_S3_ENDPOINT_URL = StrVar("MLFLOW_S3_ENDPOINT_URL", None)
MLFLOW_S3_IGNORE_TLS = BoolVar("MLFLOW_S3_IGNORE_TLS", False)
# How long a presigned download URL handed out by the artifact proxy stays valid.
MLFLOW_PRESIGNED_DOWNLOAD_URL_TTL_SECONDS = IntVar("MLFLOW_PRESIGNED_DOWNLOAD_URL_TTL_SECONDS", 300)

# tracklet's own
TRACKLET_SQLITE_BUSY_TIMEOUT = FloatVar("TRACKLET_SQLITE_BUSY_TIMEOUT", 60.0)
TRACKLET_ASYNC_FLUSH_INTERVAL = FloatVar("TRACKLET_ASYNC_FLUSH_INTERVAL", 0.2)
TRACKLET_ASYNC_MAX_QUEUE = IntVar("TRACKLET_ASYNC_MAX_QUEUE", 1_000_000)
# The crash-safe spool of asynchronous logging (tracking/spool.py): on by default.
TRACKLET_ASYNC_SPOOL = BoolVar("TRACKLET_ASYNC_SPOOL", True)
TRACKLET_ASYNC_SPOOL_DIR = StrVar("TRACKLET_ASYNC_SPOOL_DIR", None)
TRACKLET_ASYNC_SPOOL_MAX_BYTES = IntVar("TRACKLET_ASYNC_SPOOL_MAX_BYTES", 64 * 1024 * 1024)
TRACKLET_TEST_POSTGRES_URI = StrVar(
    "TRACKLET_TEST_POSTGRES_URI", "postgresql://postgres@127.0.0.1:5432/test"
)
