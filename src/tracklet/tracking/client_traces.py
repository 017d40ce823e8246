"""MlflowClient's trace methods: get, search, tag and delete traces (MLflow 3.17 names)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tracklet.entities import PagedList
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.store.base import TrackingStore
from tracklet.store.trace_base import (
    SEARCH_TRACES_DEFAULT_MAX_RESULTS,
    SEARCH_TRACES_MAX_RESULTS,
    trace_not_found,
)
from tracklet.tracking import _state

if TYPE_CHECKING:  # tracing's entities load when a trace method is first called
    from tracklet.entities.trace import Trace


def flush_pending_traces() -> None:
    """Wait for the traces this process has finished but not yet written (tracing's queue)."""
    for flush in _state.trace_flushers:
        flush()


class TracesClientMixin:
    """Trace methods of :class:`tracklet.MlflowClient`."""

    @property
    def _store(self) -> TrackingStore:
        raise NotImplementedError  # provided by MlflowClient

    def get_trace(self, trace_id: str, display: bool = True, flush: bool = False) -> Trace:
        """The trace with its spans.

        Args:
            trace_id: The trace's id (``tr-...``).
            display: Accepted for MLflow's signature (notebook rendering); tracklet renders
                no HTML.
            flush: First wait for the traces this process finished but has not written.

        Returns:
            The trace.
        """
        if flush:
            flush_pending_traces()
        found = self._store.batch_get_traces([trace_id])
        if not found:
            raise trace_not_found(trace_id)
        return found[0]

    def search_traces(
        self,
        experiment_ids: Sequence[str] | None = None,
        filter_string: str | None = None,
        max_results: int = SEARCH_TRACES_DEFAULT_MAX_RESULTS,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        run_id: str | None = None,
        include_spans: bool = True,
        model_id: str | None = None,
        locations: Sequence[str] | None = None,
        flush: bool = False,
    ) -> PagedList[Trace]:
        """Traces in the experiments (``locations`` or ``experiment_ids``), spec §6.5.

        Args:
            experiment_ids: Experiments to search (or ``locations``).
            filter_string: A filter in the search language, e.g. ``"span.name = 'llm'"``.
            max_results: At most this many traces (pages of up to 500 are fetched).
            order_by: e.g. ``["timestamp_ms DESC"]`` (the default order).
            page_token: The token of the previous page.
            run_id: Only traces of this run (its source run, or linked to it).
            include_spans: Load each trace's spans (else infos only).
            model_id: Only traces of this logged model.
            locations: Experiment ids to search (as ``experiment_ids``).
            flush: First wait for the traces this process finished but has not written.

        Returns:
            The traces and the next page's token.
        """
        from tracklet.entities.trace import Trace, TraceData, TraceMetadataKey

        if flush:
            flush_pending_traces()
        where = [str(x) for x in (locations or experiment_ids or [])]
        if not where:
            raise MlflowException(
                "search_traces needs experiment_ids or locations.", INVALID_PARAMETER_VALUE
            )
        if model_id is not None:
            if filter_string:
                raise MlflowException(
                    "Cannot specify both `model_id` or `filter_string` in the search_traces call.",
                    INVALID_PARAMETER_VALUE,
                )
            filter_string = f"request_metadata.`{TraceMetadataKey.MODEL_ID}` = '{model_id}'"
        if run_id:
            experiment_id = self._store.get_run(run_id).info.experiment_id
            if experiment_id not in where:
                raise MlflowException(
                    f"Run {run_id} belongs to experiment {experiment_id}, which is not in the "
                    f"list of locations provided: {where}. Please include experiment "
                    f"{experiment_id} in the `locations` parameter to search for traces from "
                    "this run.",
                    INVALID_PARAMETER_VALUE,
                )
            if filter_string and TraceMetadataKey.SOURCE_RUN in filter_string:
                raise MlflowException(
                    "You cannot filter by run_id when it is already part of the filter string.",
                    INVALID_PARAMETER_VALUE,
                )
            run_filter = f"attribute.run_id = '{run_id}'"
            filter_string = f"{filter_string} AND {run_filter}" if filter_string else run_filter
        traces: list[Trace] = []
        token = page_token
        while len(traces) < max_results:
            page = self._store.search_traces(
                where,
                filter_string,
                min(max_results - len(traces), SEARCH_TRACES_MAX_RESULTS),
                order_by,
                token,
            )
            if include_spans:
                ids = [info.trace_id for info in page]
                loaded = {t.trace_id: t for t in self._store.batch_get_traces(ids)}
                traces.extend(loaded[i] for i in ids if i in loaded)
            else:
                traces.extend(Trace(info, TraceData()) for info in page)
            token = page.token
            if not token:
                break
        return PagedList(traces, token)

    def delete_traces(
        self,
        experiment_id: str,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: list[str] | None = None,
    ) -> int:
        """Delete traces by id, or the oldest ones (at most ``max_traces``) before a time.

        Args:
            experiment_id: The traces' experiment.
            max_timestamp_millis: Delete traces that started at or before this time.
            max_traces: With ``max_timestamp_millis``, delete at most this many (oldest first).
            trace_ids: Delete these traces instead.

        Returns:
            How many traces were deleted.
        """
        return self._store.delete_traces(
            str(experiment_id), max_timestamp_millis, max_traces, trace_ids
        )

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        """Set a tag on a trace (values over 8000 characters are truncated).

        Args:
            trace_id: The trace's id.
            key: The tag's key.
            value: The tag's value.
        """
        self._store.set_trace_tag(trace_id, key, str(value))

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        """Delete a tag from a trace.

        Args:
            trace_id: The trace's id.
            key: The tag's key.
        """
        self._store.delete_trace_tag(trace_id, key)

    def link_traces_to_run(self, trace_ids: list[str], run_id: str) -> None:
        """Link traces to a run: ``search_traces(run_id=...)`` then finds them too.

        Args:
            trace_ids: At most 100 trace ids.
            run_id: The run.
        """
        self._store.link_traces_to_run(trace_ids, run_id)
