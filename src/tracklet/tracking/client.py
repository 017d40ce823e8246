"""MlflowClient: MLflow's client API, name for name, over any TrackingStore.

The client turns user arguments into entities (stringified params, float metrics, default
timestamps and steps), validates them, and hands them to the store for its tracking URI, or to
the asynchronous logger when ``synchronous=False``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from operator import attrgetter
from time import time_ns
from typing import Any

from tracklet import env, validation
from tracklet.entities import (
    DatasetInput,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    MetricHistory,
    Param,
    RunTag,
)
from tracklet.store.base import TrackingStore
from tracklet.store.schemes import get_store
from tracklet.tracking import background
from tracklet.tracking import uri as tracking_uri_module
from tracklet.tracking.async_logging import (
    AsyncLogger,
    RunOperations,
    flush_store,
    logger_for,
)
from tracklet.tracking.client_artifacts import ArtifactsClientMixin
from tracklet.tracking.client_experiments import ExperimentsClientMixin
from tracklet.tracking.client_models import LoggedModelsClientMixin
from tracklet.tracking.client_registry import RegistryClientMixin
from tracklet.tracking.client_registry_aliases import AliasesClientMixin
from tracklet.tracking.client_runs import RunsClientMixin
from tracklet.tracking.client_tables import TablesClientMixin
from tracklet.tracking.client_traces import TracesClientMixin

_INT64_MIN = validation.INT64_MIN
_INT64_MAX = validation.INT64_MAX


def _is_async(synchronous: bool | None) -> bool:
    if synchronous is None:
        return env.MLFLOW_ENABLE_ASYNC_LOGGING.get()
    return not synchronous


class MlflowClient(
    ExperimentsClientMixin,
    RunsClientMixin,
    ArtifactsClientMixin,
    TablesClientMixin,
    LoggedModelsClientMixin,
    RegistryClientMixin,
    AliasesClientMixin,
    TracesClientMixin,
):
    """A client for a tracking store: a database URI or a tracking server URL.

    Args:
        tracking_uri: Where to track; defaults to the URI in force (see ``get_tracking_uri``).
        registry_uri: Accepted for MLflow compatibility; defaults to the tracking URI.
    """

    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        self._tracking_uri = tracking_uri_module.resolve(tracking_uri)
        self._registry_uri = registry_uri or env.MLFLOW_REGISTRY_URI.get() or self._tracking_uri
        self._store_cache: TrackingStore | None = None
        self._async_logger: AsyncLogger | None = None

    @property
    def tracking_uri(self) -> str:
        """The tracking URI this client reads and writes (resolved when the client was made)."""
        return self._tracking_uri

    def _make_async_logger(self) -> AsyncLogger:
        self._async_logger = logger_for(self._store)
        return self._async_logger

    @property
    def _store(self) -> TrackingStore:
        store = self._store_cache
        if store is None:
            store = self._store_cache = get_store(self._tracking_uri)
        return store

    # ------------------------------------------------------------------ run data

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool | None = None,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
        model_id: str | None = None,
    ) -> RunOperations | None:
        """Log one point of a metric.

        Args:
            run_id: The run's id.
            key: The metric's name (letters, digits and ``_-. /``, at most 250 characters).
            value: The value; NaN and +/-inf are stored as such.
            timestamp: Milliseconds since the epoch; now by default.
            step: The training step, any int64; 0 by default.
            synchronous: False queues the point and returns at once (a RunOperations to
                ``wait()`` on); None follows ``MLFLOW_ENABLE_ASYNC_LOGGING``.
            dataset_name: The dataset the value was computed on (with ``dataset_digest``).
            dataset_digest: That dataset's digest.
            model_id: The logged model the value describes.

        Returns:
            A RunOperations when queued, else None.

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for a bad key, value, timestamp or step;
                RESOURCE_DOES_NOT_EXIST for an unknown run; INVALID_STATE for a deleted run.

        Example::

            for epoch in range(10):
                client.log_metric(run_id, "loss", 1.0 / (epoch + 1), step=epoch)
        """
        # The common case (a known key, a float, an int step) is checked inline: this is the
        # hot path of training loops, and async logging has a budget of a few microseconds.
        if key not in validation.known_valid_keys:
            key = validation.validate_key(key)
        if timestamp is None:
            timestamp = time_ns() // 1_000_000
        elif type(timestamp) is not int or timestamp < 0:
            timestamp = validation.validate_timestamp(key, timestamp)
        if type(value) is not float:
            value = validation.validate_metric_value(
                key, validation.numeric_string_to_float(value), timestamp
            )
        if step is None:
            step = 0
        elif type(step) is not int or not _INT64_MIN <= step <= _INT64_MAX:
            step = validation.validate_step(key, step)
        linked = dataset_name or dataset_digest or model_id
        if synchronous is False or (synchronous is None and env.MLFLOW_ENABLE_ASYNC_LOGGING.get()):
            logger = self._async_logger or self._make_async_logger()
            if linked:
                metric = Metric(
                    key, value, timestamp, step, dataset_name, dataset_digest, model_id, run_id
                )
                return RunOperations(logger, run_id, logger.add_batch(run_id, [metric]))
            return logger.add_metric(run_id, key, value, timestamp, step)
        self._store.log_metric(
            run_id,
            Metric(key, value, timestamp, step, dataset_name, dataset_digest, model_id, run_id)
            if linked
            else Metric(key, value, timestamp, step),
        )
        return None

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        """Log a param (stringified). A param is written once: another value for the same key is an
        error.

        Args:
            run_id: The run's id.
            key: The param's name.
            value: The value; stringified, at most 6,000 characters.
            synchronous: False queues the write and returns at once; None follows
                ``MLFLOW_ENABLE_ASYNC_LOGGING``.

        Returns:
            ``value``, as given.

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for a bad key, an over-long value or a
                different value for a logged key.
        """
        checked_key, checked_value = validation.validate_param(key, value)
        if _is_async(synchronous):
            logger = logger_for(self._store)
            logger.add_batch(run_id, params=[Param(checked_key, checked_value)])
            return value
        self._store.log_param(run_id, Param(checked_key, checked_value))
        return value

    def set_tag(
        self, run_id: str, key: str, value: Any, synchronous: bool | None = None
    ) -> RunOperations | None:
        """Set a tag on a run (replacing the tag's previous value).

        Args:
            run_id: The run's id.
            key: The tag's name.
            value: The value; stringified, at most 8,000 characters.
            synchronous: False queues the write and returns at once; None follows
                ``MLFLOW_ENABLE_ASYNC_LOGGING``.

        Returns:
            A RunOperations when queued, else None.

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for a bad key or an over-long value.
        """
        checked_key, checked_value = validation.validate_tag(key, value)
        if _is_async(synchronous):
            logger = logger_for(self._store)
            seq = logger.add_batch(run_id, tags=[RunTag(checked_key, checked_value)])
            return RunOperations(logger, run_id, seq)
        self._store.set_tag(run_id, RunTag(checked_key, checked_value))
        return None

    def delete_tag(self, run_id: str, key: str) -> None:
        """Delete a tag of a run.

        Args:
            run_id: The run's id.
            key: The tag's name.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST if the run or the tag does not exist.
        """
        self._store.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> RunOperations | None:
        """Log metrics, params and tags of a run together: all of them are written, or none is.

        Args:
            run_id: The run's id.
            metrics: Metric points (at most 1,000).
            params: Params (at most 100; values stringified).
            tags: Tags (at most 100; values stringified).
            synchronous: False queues the batch and returns at once; None follows
                ``MLFLOW_ENABLE_ASYNC_LOGGING``.

        Returns:
            A RunOperations when queued, else None.

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for a bad entry (naming it, e.g.
                ``metrics[3].value``), too many entries, or a param logged with another value.

        Example::

            from tracklet.entities import Metric, Param

            metrics = [Metric("acc", 0.9, 0, 1)]
            client.log_batch(run_id, metrics=metrics, params=[Param("lr", "0.1")])
        """
        if set(map(type, map(_VALUE, metrics))) - _FLOAT:  # C-level pass: usually all floats
            metrics = [m if type(m.value) is float else _numeric_metric(m) for m in metrics]
        params = [p if isinstance(p.value, str) else Param(p.key, str(p.value)) for p in params]
        tags = [t if isinstance(t.value, str) else RunTag(t.key, str(t.value)) for t in tags]
        if _is_async(synchronous):
            _check_batch(metrics, params, tags)
            logger = logger_for(self._store)
            return RunOperations(logger, run_id, logger.add_batch(run_id, metrics, params, tags))
        if metrics or params or tags:
            self._store.log_batch(run_id, metrics, params, tags)
        return None

    def _log_metric_step(
        self,
        run_id: str,
        metrics: Mapping[str, Any],
        timestamp: int,
        step: int,
        synchronous: bool | None,
    ) -> bool:
        """Fluent ``log_metrics`` without a Metric object per value: the values of one step
        as columns, written as ``log_batch`` would (all or nothing, checked keys). Only for
        the common case, float values written synchronously; False (nothing done) otherwise."""
        if (
            _is_async(synchronous)
            or not metrics
            # Else errors name the point (a server names it whichever request it gets).
            or not (
                validation.known_valid_keys.issuperset(metrics)
                or self._store.checks_points_remotely
            )
            or set(map(type, metrics.values())) - _FLOAT
            or type(step) is not int
            or not validation.INT64_MIN <= step <= validation.INT64_MAX
            or type(timestamp) is not int
            or timestamp < 0
        ):
            return False
        steps, timestamps = (step,), (timestamp,)
        self._store.log_metric_columns(
            run_id, {key: (steps, timestamps, (value,)) for key, value in metrics.items()}
        )
        return True

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[LoggedModelInput] | None = None,
    ) -> None:
        """Record datasets and models a run used.

        Args:
            run_id: The run's id.
            datasets: DatasetInput entities (a dataset with its input tags, e.g. its context).
            models: LoggedModelInput entities (logged model ids).

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown run or model.
        """
        self._store.log_inputs(run_id, datasets or (), models or ())

    def log_outputs(self, run_id: str, models: list[LoggedModelOutput]) -> None:
        """Record logged models a run produced (each at a step).

        Args:
            run_id: The run's id.
            models: LoggedModelOutput entities (model id and step).

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown run or model.
        """
        self._store.log_outputs(run_id, models)

    def get_metric_history(self, run_id: str, key: str) -> MetricHistory:
        """Every point logged for a metric of a run.

        Args:
            run_id: The run's id.
            key: The metric's name.

        Returns:
            A list of Metric, ordered by (timestamp, step, value); empty for an unknown key.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown run.
        """
        return self._store.get_metric_history(run_id, key)

    def flush_async_logging(self) -> None:
        """Wait until every point queued with ``synchronous=False`` (by any run) is written, and
        every artifact queued off the caller's thread (autologging's plots)."""
        background.wait()
        flush_store(self._store)


_FLOAT = {float}
_VALUE = attrgetter("value")


def _numeric_metric(metric: Metric) -> Metric:
    # MLflow's client logs "0.9" (a numeric string) as 0.9; anything else is checked as given.
    value = validation.numeric_string_to_float(metric.value)
    return dataclasses.replace(metric, value=value) if isinstance(value, float) else metric


def _check_batch(
    metrics: Iterable[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> None:
    # Queued data is checked now, so a bad batch fails in the caller, not later in a thread.
    for i, m in enumerate(metrics):
        validation.validate_key(m.key, f"metrics[{i}].key")
        validation.validate_metric_value(m.key, m.value, m.timestamp, f"metrics[{i}]")
        validation.validate_timestamp(m.key, m.timestamp, f"metrics[{i}]")
        validation.validate_step(m.key, m.step, f"metrics[{i}]")
    for i, p in enumerate(params):
        validation.validate_param(p.key, p.value, f"params[{i}]")
    validation.validate_param_keys_unique([p.key for p in params])
    for i, t in enumerate(tags):
        validation.validate_tag(t.key, t.value, f"tags[{i}]")
