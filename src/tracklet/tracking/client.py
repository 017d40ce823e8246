"""MlflowClient: MLflow's client API, name for name, over any TrackingStore.

The client turns user arguments into entities (stringified params, float metrics, default
timestamps and steps), validates them, and hands them to the store for its tracking URI, or to
the asynchronous logger when ``synchronous=False``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from tracklet import env, validation
from tracklet.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    MetricHistory,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from tracklet.store.base import TrackingStore
from tracklet.store.run_columns import RunColumns
from tracklet.store.schemes import get_store
from tracklet.tracking import uri as tracking_uri_module
from tracklet.tracking.async_logging import (
    AsyncLogger,
    RunOperations,
    flush_store,
    logger_for,
)
from tracklet.tracking.client_artifacts import ArtifactsClientMixin
from tracklet.tracking.client_models import LoggedModelsClientMixin
from tracklet.tracking.client_registry import RegistryClientMixin
from tracklet.tracking.client_traces import TracesClientMixin
from tracklet.tracking.system_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_USER

SEARCH_MAX_RESULTS_DEFAULT = 1000
_INT64_MIN = validation.INT64_MIN
_INT64_MAX = validation.INT64_MAX


def _now_ms() -> int:
    return int(time.time() * 1000)


def _is_async(synchronous: bool | None) -> bool:
    if synchronous is None:
        return env.MLFLOW_ENABLE_ASYNC_LOGGING.get()
    return not synchronous


class MlflowClient(
    ArtifactsClientMixin, LoggedModelsClientMixin, RegistryClientMixin, TracesClientMixin
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

    # ------------------------------------------------------------------ experiments

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: dict[str, Any] | None = None,
    ) -> str:
        """Create an experiment and return its id."""
        experiment_tags = [ExperimentTag(k, str(v)) for k, v in (tags or {}).items()]
        return self._store.create_experiment(name, artifact_location, experiment_tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self._store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        return self._store.search_experiments(
            view_type=view_type,
            max_results=max_results,
            filter_string=filter_string,
            order_by=order_by,
            page_token=page_token,
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._store.rename_experiment(str(experiment_id), new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self._store.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        self._store.restore_experiment(str(experiment_id))

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self._store.set_experiment_tag(str(experiment_id), ExperimentTag(key, str(value)))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._store.delete_experiment_tag(str(experiment_id), key)

    # ------------------------------------------------------------------ runs

    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: dict[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Create a run (status RUNNING); the fluent ``start_run`` adds the system tags."""
        tags = tags or {}
        run_tags = [RunTag(k, str(v)) for k, v in tags.items()]
        user_id = str(tags.get(MLFLOW_USER, "unknown"))
        return self._store.create_run(
            experiment_id=str(experiment_id),
            user_id=user_id,
            start_time=start_time if start_time is not None else _now_ms(),
            tags=run_tags,
            run_name=run_name,
        )

    def get_run(self, run_id: str) -> Run:
        return self._store.get_run(run_id)

    def get_parent_run(self, run_id: str) -> Run | None:
        parent_id = self.get_run(run_id).data.tags.get(MLFLOW_PARENT_RUN_ID)
        return self.get_run(parent_id) if parent_id else None

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        end_time = None
        if status is not None and RunStatus.is_terminated(RunStatus.from_string(status)):
            end_time = _now_ms()
        self._store.update_run_info(run_id, run_status=status, end_time=end_time, run_name=name)

    def set_terminated(
        self, run_id: str, status: str | None = None, end_time: int | None = None
    ) -> RunInfo:
        """End a run: every queued point of it is written first."""
        self.flush_async_logging()
        status = status or RunStatus.FINISHED.name
        RunStatus.from_string(status)
        return self._store.update_run_info(
            run_id,
            run_status=status,
            end_time=end_time if end_time is not None else _now_ms(),
            run_name=None,
        )

    def delete_run(self, run_id: str) -> None:
        self._store.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self._store.restore_run(run_id)

    def search_runs(
        self,
        experiment_ids: list[str] | str,
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        if isinstance(experiment_ids, str | int):
            experiment_ids = [str(experiment_ids)]
        return self._store.search_runs(
            experiment_ids=[str(e) for e in experiment_ids],
            filter_string=filter_string or "",
            run_view_type=run_view_type,
            max_results=max_results,
            order_by=order_by,
            page_token=page_token,
        )

    def search_runs_columns(
        self,
        experiment_ids: list[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> RunColumns:
        """tracklet's own: ``search_runs``'s page (same runs, order and token) as columns, with
        no Run objects built; ``tracklet.search_runs`` makes its DataFrames from them.

        Args:
            experiment_ids: The experiments to search.
            filter_string: A search filter, as for ``search_runs``.
            run_view_type: ``ViewType.ACTIVE_ONLY``, ``DELETED_ONLY`` or ``ALL``.
            max_results: The most runs in the page.
            order_by: Order clauses, as for ``search_runs``.
            page_token: The token of the page to read (from a previous page).

        Returns:
            A RunColumns page whose ``token`` reads the next page (None on the last).

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for a bad filter, order or page token.
        """
        return self._store.search_runs_columns(
            experiment_ids, filter_string, run_view_type, max_results, order_by, page_token
        )

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
        """Log one metric point. ``step`` is any int64; ``timestamp`` is in milliseconds."""
        # The common case (a known key, a float, an int step) is checked inline: this is the
        # hot path of training loops, and async logging has a budget of a few microseconds.
        if key not in validation.known_valid_keys:
            key = validation.validate_key(key)
        if timestamp is None:
            timestamp = int(time.time() * 1000)
        elif type(timestamp) is not int or timestamp < 0:
            timestamp = validation.validate_timestamp(key, timestamp)
        if type(value) is not float:
            value = validation.validate_metric_value(key, value, timestamp)
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
            logger.add_metric(run_id, key, value, timestamp, step)
            return logger.handle(run_id)
        self._store.log_metric(
            run_id,
            Metric(key, value, timestamp, step, dataset_name, dataset_digest, model_id, run_id)
            if linked
            else Metric(key, value, timestamp, step),
        )
        return None

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        """Log a param (stringified); logging another value for the same key is an error."""
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
        checked_key, checked_value = validation.validate_tag(key, value)
        if _is_async(synchronous):
            logger = logger_for(self._store)
            seq = logger.add_batch(run_id, tags=[RunTag(checked_key, checked_value)])
            return RunOperations(logger, run_id, seq)
        self._store.set_tag(run_id, RunTag(checked_key, checked_value))
        return None

    def delete_tag(self, run_id: str, key: str) -> None:
        self._store.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> RunOperations | None:
        """Log metrics, params and tags together: all of them are written, or none is."""
        metrics = list(metrics)
        params = [p if isinstance(p.value, str) else Param(p.key, str(p.value)) for p in params]
        tags = [t if isinstance(t.value, str) else RunTag(t.key, str(t.value)) for t in tags]
        if _is_async(synchronous):
            _check_batch(metrics, params, tags)
            logger = logger_for(self._store)
            return RunOperations(logger, run_id, logger.add_batch(run_id, metrics, params, tags))
        if metrics or params or tags:
            self._store.log_batch(run_id, metrics, params, tags)
        return None

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[LoggedModelInput] | None = None,
    ) -> None:
        self._store.log_inputs(run_id, datasets or (), models or ())

    def log_outputs(self, run_id: str, models: list[LoggedModelOutput]) -> None:
        self._store.log_outputs(run_id, models)

    def get_metric_history(self, run_id: str, key: str) -> MetricHistory:
        """Every point of a metric, ordered by (timestamp, step, value)."""
        return self._store.get_metric_history(run_id, key)

    def flush_async_logging(self) -> None:
        """Wait until every point queued with ``synchronous=False`` is written."""
        flush_store(self._store)


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
