"""Which experiments a trace request touches, for the gate (MLflow's trace validators in
mlflow/server/auth/__init__.py): a trace id is resolved to its experiment through the store
(cached: a trace never moves), a new trace's experiment is read from its location, OTLP's from
the ``x-mlflow-experiment-id`` header. A trace that does not exist is refused, as MLflow does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.types import Scope

from tracklet.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException
from tracklet.server.auth.permissions import EXPERIMENT
from tracklet.server.auth.rules import strip_prefix
from tracklet.wire import endpoints as ep

_CACHE_MAX = 100_000


class TraceExperiments:
    """Trace id → experiment id, cached; runs through the gate's own run resolver."""

    def __init__(self, experiment_of_run: Callable[[Any, str], str]) -> None:
        self.experiment_of_run = experiment_of_run
        self._known: dict[str, str] = {}

    def of(self, store: Any, trace_id: object) -> str | None:
        """The trace's experiment id; None if there is no such trace."""
        if not isinstance(trace_id, str) or not trace_id:
            return None
        experiment_id = self._known.get(trace_id)
        if experiment_id is None:
            try:
                experiment_id = store.get_trace_info(trace_id).experiment_id
            except MlflowException as error:
                if error.error_code != RESOURCE_DOES_NOT_EXIST:
                    raise
                return None
            if experiment_id is None:
                return None
            if len(self._known) > _CACHE_MAX:
                self._known.clear()
            self._known[trace_id] = experiment_id
        return experiment_id


def _experiments_of(store: Any, trace_ids: Any, traces: TraceExperiments) -> list[str] | None:
    if not isinstance(trace_ids, list) or not trace_ids:
        return None
    found = [traces.of(store, trace_id) for trace_id in trace_ids]
    return None if None in found else sorted({f for f in found if f is not None})


def _location_experiment(location: Any) -> str | None:
    experiment = location.get("mlflow_experiment") if isinstance(location, dict) else None
    if isinstance(experiment, dict) and experiment.get("experiment_id") not in (None, ""):
        return str(experiment["experiment_id"])
    return None


def _header(scope: Scope, name: str) -> str:
    wanted = name.encode("latin-1")
    for key, value in scope["headers"]:
        if key == wanted:
            return str(value.decode("latin-1"))
    return ""


def trace_resources(
    kind: str,
    scope: Scope,
    raw: dict[str, Any],
    query: dict[str, list[str]],
    traces: TraceExperiments,
) -> list[tuple[str, ...]] | None:
    """The (type, id[, need]) resources of a trace request; None if they cannot be told."""
    store = scope["app"].state.tracklet.store
    if kind == "otlp_experiment":
        experiment_id = _header(scope, ep.EXPERIMENT_ID_HEADER)
        # Without the header there is nothing to check against: refused (admins get the
        # handler's 400).
        return [(EXPERIMENT, experiment_id)] if experiment_id else None
    if kind == "trace_location":
        trace = raw.get("trace") if raw else None
        info = trace.get("trace_info") if isinstance(trace, dict) else None
        location = info.get("trace_location") if isinstance(info, dict) else None
        created_in = _location_experiment(location)
        return None if created_in is None else [(EXPERIMENT, created_in)]
    if kind == "trace_locations":
        locations = raw.get("locations") if raw else None
        if not isinstance(locations, list) or not locations:
            return None
        ids = [_location_experiment(location) for location in locations]
        return None if None in ids else [(EXPERIMENT, str(i)) for i in ids]
    if kind == "trace_path":
        parts = strip_prefix(scope["path"]).split("/")
        trace_ids: Any = [parts[3]] if len(parts) > 3 else None
    elif kind == "trace_id":
        trace_ids = [(raw or {}).get("trace_id") or query.get("trace_id", [None])[0]]
    elif kind in ("trace_ids", "link_to_run"):
        trace_ids = raw.get("trace_ids") if raw else None
        if not isinstance(trace_ids, list):
            trace_ids = query.get("trace_ids", [])
    else:
        return None
    experiments = _experiments_of(store, trace_ids, traces)
    if experiments is None:
        return None
    if kind != "link_to_run":
        return [(EXPERIMENT, e) for e in experiments]
    resources: list[tuple[str, ...]] = [(EXPERIMENT, e, "read") for e in experiments]
    if kind == "link_to_run":
        run_id = raw.get("run_id") if raw else None
        if not isinstance(run_id, str) or not run_id:
            return None
        resources.append((EXPERIMENT, traces.experiment_of_run(store, run_id), "update"))
    return resources
