"""The TrackingStore interface: everything the client and the server know about storage.

Methods are grouped by resource. Implementations: ``store.sql`` (SQLite, PostgreSQL) and
``store.rest`` (an MLflow-protocol tracking server). Every method raises
:class:`~tracklet.exceptions.MlflowException` with MLflow's error codes on bad input or missing
resources, and writes nothing when it raises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from tracklet.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    LoggedModel,
    LoggedModelInput,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    MetricHistory,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)
from tracklet.store.run_columns import RunColumns
from tracklet.store.trace_base import TraceStore

# One metric's points for one run, as columns: (steps, timestamps, values).
MetricColumns = tuple[Sequence[int], Sequence[int], Sequence[float]]
# Points as parallel columns, in order: each point's key, step, timestamp and value.
MetricPoints = tuple[Sequence[str], Sequence[int], Sequence[int], Sequence[float]]


@runtime_checkable
class ExperimentStore(Protocol):
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[ExperimentTag] = (),
    ) -> str: ...

    def get_experiment(self, experiment_id: str) -> Experiment: ...

    def get_experiment_by_name(self, name: str) -> Experiment | None: ...

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]: ...

    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...

    def delete_experiment(self, experiment_id: str) -> None: ...

    def restore_experiment(self, experiment_id: str) -> None: ...

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None: ...

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None: ...


@runtime_checkable
class RunStore(Protocol):
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag],
        run_name: str | None,
    ) -> Run: ...

    def get_run(self, run_id: str) -> Run: ...

    def update_run_info(
        self,
        run_id: str,
        run_status: str | None,
        end_time: int | None,
        run_name: str | None,
    ) -> RunInfo: ...

    def delete_run(self, run_id: str) -> None: ...

    def restore_run(self, run_id: str) -> None: ...

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]: ...

    def search_runs_columns(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> RunColumns:
        """search_runs's page (same runs, order and token) as columns, for DataFrames."""
        ...


@runtime_checkable
class RunDataStore(Protocol):
    def log_metric(self, run_id: str, metric: Metric) -> None: ...

    def log_param(self, run_id: str, param: Param) -> None: ...

    def set_tag(self, run_id: str, tag: RunTag) -> None: ...

    def delete_tag(self, run_id: str, key: str) -> None: ...

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """All of it or nothing: validated, then written in one transaction."""
        ...

    def log_metric_columns(self, run_id: str, series: Mapping[str, MetricColumns]) -> None:
        """Many points of several metrics at once, as columns (the async logging path)."""
        ...

    def log_metric_points(self, run_id: str, points: MetricPoints) -> None:
        """Points as parallel columns, checked as for ``log_metric_columns`` (keys excepted):
        all or nothing. The server's log-batch path: no grouping by key on the way."""
        ...

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[LoggedModelInput] = (),
    ) -> None: ...

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None: ...

    def get_metric_history(self, run_id: str, metric_key: str) -> MetricHistory:
        """Every point, ordered by (timestamp, step, value), identical points once."""
        ...


@runtime_checkable
class LoggedModelStore(Protocol):
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[LoggedModelParameter] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        """A new PENDING model; ``artifact_location`` is ``<experiment>/models/<id>/artifacts``."""
        ...

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel: ...

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel: ...

    def delete_logged_model(self, model_id: str) -> None: ...

    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None: ...

    def delete_logged_model_tag(self, model_id: str, key: str) -> None: ...

    def log_logged_model_params(
        self, model_id: str, params: Sequence[LoggedModelParameter]
    ) -> None: ...

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, str | None]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, object]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]: ...


@runtime_checkable
class TrackingStore(
    ExperimentStore, RunStore, RunDataStore, LoggedModelStore, TraceStore, Protocol
):
    """The whole tracking store: experiments, runs, run data, logged models and traces."""

    @property
    def tracking_uri(self) -> str: ...

    @property
    def is_local(self) -> bool:
        """True when calls stay on this machine and take microseconds (a SQLite file)."""
        ...

    @property
    def quick_calls(self) -> bool:
        """True when a single-row call is a statement on the store's own database (SQLite, or
        PostgreSQL: about a millisecond), so a server may make it on its event loop, one at a
        time per worker; False when it is a request to another server (a REST store: its
        round trip, and its retries for minutes when that server is down)."""
        ...

    @property
    def checks_points_remotely(self) -> bool:
        """True when a server checks every point and words the errors (a REST store): then
        ``log_metric_columns`` and ``log_batch`` send the same request for the same points,
        invalid ones included, and a caller may take the cheaper."""
        ...

    def close(self) -> None: ...
