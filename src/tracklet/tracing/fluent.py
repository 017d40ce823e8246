"""Fluent trace queries: ``get_trace``, ``search_traces`` (DataFrame or list) and trace tags,
against the tracking URI in force."""

from __future__ import annotations

import logging
from typing import Any, Literal

from tracklet.entities import Trace
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.store.trace_base import SEARCH_TRACES_MAX_RESULTS
from tracklet.tracing.api import exporter
from tracklet.tracking import context
from tracklet.tracking.client import MlflowClient

_logger = logging.getLogger("tracklet.tracing")
_COLUMNS = [
    "trace_id",
    "trace",
    "client_request_id",
    "state",
    "request_time",
    "execution_duration",
    "request",
    "response",
    "trace_metadata",
    "tags",
    "spans",
    "assessments",
]


def get_trace(trace_id: str, silent: bool = False, flush: bool = False) -> Trace | None:
    """The trace, or None (with a warning unless ``silent``) if it does not exist.

    Traces are written off the caller's thread, so a trace this process finished a moment ago
    may not be stored yet: when it is not found, the pending traces are flushed and it is
    looked up once more.

    Args:
        trace_id: The trace's id (``tr-...``).
        silent: No warning when the trace does not exist.
        flush: Write this process's pending traces before the first look-up.

    Returns:
        The trace with its spans, or None.
    """
    client = MlflowClient()
    if flush:
        exporter.flush()
    try:
        return client.get_trace(trace_id)
    except MlflowException as first:
        error = first
    if exporter.flush():
        try:
            return client.get_trace(trace_id)
        except MlflowException as again:
            error = again
    if not silent:
        _logger.warning("Failed to get trace from the tracking store: %s", error)
    return None


def search_traces(
    experiment_ids: list[str] | None = None,
    filter_string: str | None = None,
    max_results: int | None = None,
    order_by: list[str] | None = None,
    run_id: str | None = None,
    return_type: Literal["pandas", "list"] | None = None,
    model_id: str | None = None,
    include_spans: bool = True,
    locations: list[str] | None = None,
    flush: bool = False,
) -> Any:
    """Traces in the given experiments (default: the active one), as a DataFrame or a list.

    Args:
        experiment_ids: Experiments to search (or ``locations``).
        filter_string: A filter in the search language (spec §6.5), e.g.
            ``"trace.status = 'ERROR' AND tags.topic = 'x'"``.
        max_results: At most this many traces (default: all).
        order_by: e.g. ``["timestamp_ms DESC"]`` (the default order).
        run_id: Only traces of this run (its source run, or linked to it).
        return_type: ``"pandas"`` (MLflow's columns) or ``"list"`` of Trace.
        model_id: Only traces of this logged model.
        include_spans: Load each trace's spans (else infos only).
        locations: Experiment ids to search (as ``experiment_ids``).
        flush: First write the traces this process finished but has not written yet.

    Returns:
        A DataFrame, or a list of traces.
    """
    if return_type is None:
        try:
            import pandas  # noqa: F401

            return_type = "pandas"
        except ImportError:
            return_type = "list"
    if return_type not in ("pandas", "list"):
        raise MlflowException(
            f"Invalid return type: {return_type}. Return type must be either 'pandas' or 'list'.",
            INVALID_PARAMETER_VALUE,
        )
    if flush:
        exporter.flush()
    if not experiment_ids and not locations:
        locations = [context.current_experiment_id()]
    client = MlflowClient()
    traces: list[Trace] = []
    token = None
    while max_results is None or len(traces) < max_results:
        wanted = SEARCH_TRACES_MAX_RESULTS
        if max_results is not None:
            wanted = min(wanted, max_results - len(traces))
        page = client.search_traces(
            experiment_ids=experiment_ids,
            filter_string=filter_string,
            max_results=wanted,
            order_by=order_by,
            page_token=token,
            run_id=run_id,
            include_spans=include_spans,
            model_id=model_id,
            locations=locations,
        )
        traces.extend(page)
        token = page.token
        if not token:
            break
    if return_type == "list":
        return traces
    import pandas as pd

    return pd.DataFrame([t.to_pandas_dataframe_row() for t in traces], columns=_COLUMNS)


def set_trace_tag(trace_id: str, key: str, value: str) -> None:
    """Set a tag on a trace (values over 8000 characters are truncated).

    Args:
        trace_id: The trace's id.
        key: The tag's key.
        value: The tag's value.
    """
    MlflowClient().set_trace_tag(trace_id, key, value)


def delete_trace_tag(trace_id: str, key: str) -> None:
    """Delete a tag from a trace.

    Args:
        trace_id: The trace's id.
        key: The tag's key.
    """
    MlflowClient().delete_trace_tag(trace_id, key)
