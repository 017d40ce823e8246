"""RestStore: the TrackingStore over a tracking server's MLflow REST API.

Requests are built from the shared endpoint table (:mod:`tracklet.wire.endpoints`) and entities
are read back with :mod:`tracklet.wire.codec`, so this store and tracklet's server agree on every
path and field; it also talks to a real ``mlflow server``. Batches are split into requests of
MLflow's sizes (1000 metrics, 100 params, 100 tags, 1000 entities), as MLflow's client does.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any

import httpx

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
    RunTag,
    ViewType,
)
from tracklet.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException
from tracklet.store.base import MetricColumns, MetricPoints
from tracklet.store.rest.http import HttpClient
from tracklet.store.rest.logged_models import LoggedModelsOverRest
from tracklet.store.rest.model_registry import ModelRegistryOverRest
from tracklet.store.rest.traces import TracesOverRest
from tracklet.store.run_columns import RunColumns
from tracklet.wire import endpoints as ep
from tracklet.wire.codec import (
    dataset_to_json,
    experiment_from_json,
    metric_from_json,
    metric_to_json,
    run_from_json,
    run_info_from_json,
)
from tracklet.wire.values import as_double, encode_double

MAX_METRICS_PER_REQUEST = 1000
MAX_PARAMS_TAGS_PER_REQUEST = 100
MAX_ENTITIES_PER_REQUEST = 1000
HISTORY_PAGE_SIZE = 25000

_open_stores: weakref.WeakSet[RestStore] = weakref.WeakSet()

__all__ = ["RestStore"]


def _key_values(items: Sequence[Param] | Sequence[RunTag] | Sequence[ExperimentTag]) -> list[Any]:
    return [{"key": item.key, "value": item.value} for item in items]


def _metrics_json(metrics: Sequence[Metric]) -> list[dict[str, Any]]:
    """Metrics for a log-batch body; the common unlinked, finite case without a call per point."""
    out: list[dict[str, Any]] = []
    append = out.append
    for m in metrics:
        value = m.value
        if (
            value - value
            or m.model_id is not None
            or m.dataset_name is not None
            or m.dataset_digest is not None
        ):
            append(metric_to_json(m))  # NaN/inf (v - v is NaN, truthy) or model/dataset links
        else:
            append({"key": m.key, "value": value, "timestamp": m.timestamp, "step": m.step})
    return out


def _one_point_each(series: Mapping[str, MetricColumns]) -> list[dict[str, Any]] | None:
    """A step of fluent ``log_metrics`` (one finite point per key) at C speed; else None."""
    try:
        points = [
            {"key": key, "value": value, "timestamp": timestamp, "step": step}
            for key, ((step,), (timestamp,), (value,)) in series.items()
        ]
        total = sum(map(_VALUE, points))  # NaN or infinite if any value is (or it overflowed)
    except (TypeError, ValueError):  # a column of another length, a value that is no number
        return None
    return None if total - total else points


def _points_json(series: Mapping[str, MetricColumns]) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = []
    append = points.append
    for key, (steps, timestamps, values) in series.items():
        if not len(steps) == len(timestamps) == len(values):
            raise MlflowException(
                f"Metric '{key}': steps, timestamps and values differ in length",
                "INVALID_PARAMETER_VALUE",
            )
        for step, timestamp, value in zip(steps, timestamps, values, strict=True):
            append(
                {"key": key, "value": encode_double(value), "timestamp": timestamp, "step": step}
            )
    return points


_VALUE = itemgetter("value")


def _batches(
    metrics: Sequence[Any], params: Sequence[Param], tags: Sequence[RunTag]
) -> Iterator[tuple[Sequence[Any], Sequence[Param], Sequence[RunTag]]]:
    """Split into requests within MLflow's log-batch limits (params and tags go first)."""
    p = t = m = 0
    while p < len(params) or t < len(tags) or m < len(metrics):
        chunk_params = params[p : p + MAX_PARAMS_TAGS_PER_REQUEST]
        chunk_tags = tags[t : t + MAX_PARAMS_TAGS_PER_REQUEST]
        room = MAX_ENTITIES_PER_REQUEST - len(chunk_params) - len(chunk_tags)
        chunk_metrics = metrics[m : m + min(room, MAX_METRICS_PER_REQUEST)]
        yield chunk_metrics, chunk_params, chunk_tags
        p += len(chunk_params)
        t += len(chunk_tags)
        m += len(chunk_metrics)


class RestStore(LoggedModelsOverRest, TracesOverRest, ModelRegistryOverRest):
    """A TrackingStore backed by a tracking server (``http://`` or ``https://`` URI).

    Args:
        tracking_uri: The server's address, with any path prefix.
        transport: An httpx transport to use instead of the network, e.g. one that calls an
            in-process ASGI app (tests).
    """

    def __init__(self, tracking_uri: str, transport: httpx.BaseTransport | None = None) -> None:
        self._tracking_uri = tracking_uri
        self._transport = transport
        self._http = HttpClient(tracking_uri, transport)
        _open_stores.add(self)

    @property
    def tracking_uri(self) -> str:
        return self._tracking_uri

    @property
    def is_local(self) -> bool:
        """False: every call is a round trip to the server."""
        return False

    @property
    def quick_calls(self) -> bool:
        """False: every call is a request to another server."""
        return False

    @property
    def checks_points_remotely(self) -> bool:
        """True: the server checks every point, and both metric methods send log-batch."""
        return True

    def close(self) -> None:
        self._http.close()

    def _call(self, endpoint: ep.Endpoint, fields: Mapping[str, Any] | None = None) -> Any:
        return self._http.call(endpoint, fields)

    # ----------------------------------------------------------------- experiments

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[ExperimentTag] = (),
    ) -> str:
        fields: dict[str, Any] = {"name": name}
        if artifact_location:
            fields["artifact_location"] = artifact_location
        if tags:
            fields["tags"] = _key_values(tags)
        return str(self._call(ep.CREATE_EXPERIMENT, fields)["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        body = self._call(ep.GET_EXPERIMENT, {"experiment_id": str(experiment_id)})
        return experiment_from_json(body["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            body = self._call(ep.GET_EXPERIMENT_BY_NAME, {"experiment_name": name})
        except MlflowException as exc:
            if exc.error_code == RESOURCE_DOES_NOT_EXIST:
                return None
            raise
        return experiment_from_json(body["experiment"])

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        fields: dict[str, Any] = {
            "view_type": ViewType(view_type).name,
            "max_results": max_results,
        }
        if filter_string:
            fields["filter"] = filter_string
        if order_by:
            fields["order_by"] = list(order_by)
        if page_token:
            fields["page_token"] = page_token
        body = self._call(ep.SEARCH_EXPERIMENTS, fields)
        experiments = [experiment_from_json(e) for e in body.get("experiments", [])]
        return PagedList(experiments, body.get("next_page_token") or None)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._call(
            ep.UPDATE_EXPERIMENT, {"experiment_id": str(experiment_id), "new_name": new_name}
        )

    def delete_experiment(self, experiment_id: str) -> None:
        self._call(ep.DELETE_EXPERIMENT, {"experiment_id": str(experiment_id)})

    def restore_experiment(self, experiment_id: str) -> None:
        self._call(ep.RESTORE_EXPERIMENT, {"experiment_id": str(experiment_id)})

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        self._call(
            ep.SET_EXPERIMENT_TAG,
            {"experiment_id": str(experiment_id), "key": tag.key, "value": tag.value},
        )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._call(ep.DELETE_EXPERIMENT_TAG, {"experiment_id": str(experiment_id), "key": key})

    # ----------------------------------------------------------------- runs

    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag],
        run_name: str | None,
    ) -> Run:
        fields: dict[str, Any] = {
            "experiment_id": str(experiment_id),
            "user_id": user_id,
            "start_time": start_time,
            "tags": _key_values(tags),
        }
        if run_name:
            fields["run_name"] = run_name
        return run_from_json(self._call(ep.CREATE_RUN, fields)["run"])

    def get_run(self, run_id: str) -> Run:
        return run_from_json(self._call(ep.GET_RUN, {"run_id": run_id, "run_uuid": run_id})["run"])

    def update_run_info(
        self,
        run_id: str,
        run_status: str | None,
        end_time: int | None,
        run_name: str | None,
    ) -> RunInfo:
        fields: dict[str, Any] = {"run_id": run_id, "run_uuid": run_id}
        if run_status is not None:
            fields["status"] = run_status
        if end_time is not None:
            fields["end_time"] = end_time
        if run_name:
            fields["run_name"] = run_name
        body = self._call(ep.UPDATE_RUN, fields)
        return run_info_from_json(body["run_info"])

    def delete_run(self, run_id: str) -> None:
        self._call(ep.DELETE_RUN, {"run_id": run_id})

    def restore_run(self, run_id: str) -> None:
        self._call(ep.RESTORE_RUN, {"run_id": run_id})

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        fields: dict[str, Any] = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "run_view_type": ViewType(run_view_type or ViewType.ACTIVE_ONLY).name,
            "max_results": max_results,
        }
        if filter_string:
            fields["filter"] = filter_string
        if order_by:
            fields["order_by"] = list(order_by)
        if page_token:
            fields["page_token"] = page_token
        body = self._call(ep.SEARCH_RUNS, fields)
        runs = [run_from_json(r) for r in body.get("runs", [])]
        return PagedList(runs, body.get("next_page_token") or None)

    def search_runs_columns(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> RunColumns:
        # The REST protocol has runs only: columns of the page's runs.
        page = self.search_runs(
            experiment_ids, filter_string, run_view_type, max_results, order_by, page_token
        )
        return RunColumns.from_runs(page, page.token)

    # ----------------------------------------------------------------- run data

    def log_metric(self, run_id: str, metric: Metric) -> None:
        fields = metric_to_json(metric)
        fields["run_id"] = run_id
        fields["run_uuid"] = run_id
        self._call(ep.LOG_METRIC, fields)

    def log_param(self, run_id: str, param: Param) -> None:
        self._call(
            ep.LOG_PARAM,
            {"run_id": run_id, "run_uuid": run_id, "key": param.key, "value": param.value},
        )

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self._call(
            ep.SET_TAG, {"run_id": run_id, "run_uuid": run_id, "key": tag.key, "value": tag.value}
        )

    def delete_tag(self, run_id: str, key: str) -> None:
        self._call(ep.DELETE_TAG, {"run_id": run_id, "key": key})

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Sent in requests of MLflow's sizes; each request is all-or-nothing on the server."""
        if not (metrics or params or tags):
            return
        for chunk_metrics, chunk_params, chunk_tags in _batches(metrics, params, tags):
            fields: dict[str, Any] = {"run_id": run_id}
            if chunk_metrics:
                fields["metrics"] = _metrics_json(chunk_metrics)
            if chunk_params:
                fields["params"] = _key_values(chunk_params)
            if chunk_tags:
                fields["tags"] = _key_values(chunk_tags)
            self._call(ep.LOG_BATCH, fields)

    def log_metric_columns(self, run_id: str, series: Mapping[str, MetricColumns]) -> None:
        """Columns sent as log-batch requests of 1000 points each (fluent ``log_metrics`` and
        the async logging path): the same request ``log_batch`` sends for those points."""
        points = _one_point_each(series)
        if points is None:
            points = _points_json(series)
        for start in range(0, len(points), MAX_METRICS_PER_REQUEST):
            chunk = points[start : start + MAX_METRICS_PER_REQUEST]
            self._call(ep.LOG_BATCH, {"run_id": run_id, "metrics": chunk})

    def log_metric_points(self, run_id: str, points: MetricPoints) -> None:
        """Parallel columns sent as log-batch requests of 1000 points each."""
        keys, steps, timestamps, values = points
        if not len(keys) == len(steps) == len(timestamps) == len(values):
            raise MlflowException(
                "Metric points: keys, steps, timestamps and values differ in length",
                "INVALID_PARAMETER_VALUE",
            )
        body = [
            {"key": key, "value": encode_double(value), "timestamp": timestamp, "step": step}
            for key, step, timestamp, value in zip(keys, steps, timestamps, values, strict=True)
        ]
        for start in range(0, len(body), MAX_METRICS_PER_REQUEST):
            chunk = body[start : start + MAX_METRICS_PER_REQUEST]
            self._call(ep.LOG_BATCH, {"run_id": run_id, "metrics": chunk})

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[LoggedModelInput] = (),
    ) -> None:
        fields: dict[str, Any] = {"run_id": run_id}
        if datasets:
            fields["datasets"] = [
                {
                    "tags": [{"key": t.key, "value": t.value} for t in d.tags],
                    "dataset": dataset_to_json(d.dataset),
                }
                for d in datasets
            ]
        if models:
            fields["models"] = [{"model_id": m.model_id} for m in models]
        self._call(ep.LOG_INPUTS, fields)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        self._call(
            ep.LOG_OUTPUTS,
            {
                "run_id": run_id,
                "models": [{"model_id": m.model_id, "step": m.step} for m in models],
            },
        )

    def get_metric_history(self, run_id: str, metric_key: str) -> MetricHistory:
        """Every point, fetched in pages of 25000 as MLflow's client does."""
        steps: list[int] = []
        timestamps: list[int] = []
        values: list[float] = []
        token: str | None = None
        while True:
            fields: dict[str, Any] = {
                "run_id": run_id,
                "run_uuid": run_id,
                "metric_key": metric_key,
                "max_results": HISTORY_PAGE_SIZE,
            }
            if token:
                fields["page_token"] = token
            body = self._call(ep.GET_METRIC_HISTORY, fields)
            for point in body.get("metrics", []):
                if type(point.get("value")) is float and type(point.get("step", 0)) is int:
                    steps.append(point.get("step", 0))
                    timestamps.append(point["timestamp"])
                    values.append(point["value"])
                else:
                    metric = metric_from_json(point, "metrics")
                    steps.append(metric.step)
                    timestamps.append(metric.timestamp)
                    values.append(as_double(metric.value, "value"))
            token = body.get("next_page_token") or None
            if not token:
                break
        return MetricHistory(metric_key, steps, timestamps, values, run_id)

    def _after_fork(self) -> None:
        # Connections are not shared with a forked child; it gets its own pool.
        self._http = HttpClient(self._tracking_uri, self._transport)


def _reset_after_fork() -> None:
    for store in list(_open_stores):
        store._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
