"""The trace store interface: what the tracing exporter, the client and the server need.

Implementations: ``store.sql`` (trace infos, tags, metadata and spans in tables) and
``store.rest`` (an MLflow 3.x server's v3 trace endpoints and OTLP ingest).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from tracklet.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException

if TYPE_CHECKING:  # annotations only: every store imports this, tracing's entities load on use
    from tracklet.entities import PagedList
    from tracklet.entities.span import Span
    from tracklet.entities.trace import Trace, TraceInfo

SEARCH_TRACES_DEFAULT_MAX_RESULTS = 100
SEARCH_TRACES_MAX_RESULTS = 500


def trace_not_found(trace_id: str) -> MlflowException:
    """MLflow's error (and message) for a missing trace."""
    return MlflowException(f"Trace with ID '{trace_id}' not found.", RESOURCE_DOES_NOT_EXIST)


@runtime_checkable
class TraceStore(Protocol):
    def log_traces(self, traces: Sequence[Trace]) -> None:
        """Record finished traces (info and spans), each all or nothing; the exporter's batch.

        A trace whose id exists already is merged (infos replaced, spans added), as OTLP
        ingestion may have created it first.
        """
        ...

    def start_trace(self, trace_info: TraceInfo) -> TraceInfo:
        """Create (or complete) a trace's info; returns it as stored, with server tags."""
        ...

    def log_spans(self, experiment_id: str, spans: Sequence[Span]) -> Sequence[Span]:
        """Store spans (OTLP ingest); a trace missing its info gets one from its root span."""
        ...

    def get_trace_info(self, trace_id: str) -> TraceInfo: ...

    def batch_get_traces(self, trace_ids: Sequence[str]) -> list[Trace]:
        """The traces among ``trace_ids`` that exist, with their spans, in the ids' order."""
        ...

    def search_traces(
        self,
        locations: Sequence[str],
        filter_string: str | None = None,
        max_results: int = SEARCH_TRACES_DEFAULT_MAX_RESULTS,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[TraceInfo]:
        """Trace infos in the experiments ``locations``, filtered and ordered (spec §6.5)."""
        ...

    def delete_traces(
        self,
        experiment_id: str,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        """Delete by ids, or the oldest (up to ``max_traces``) before a time; the count."""
        ...

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None: ...

    def delete_trace_tag(self, trace_id: str, key: str) -> None: ...

    def link_traces_to_run(self, trace_ids: Sequence[str], run_id: str) -> None:
        """Associate traces with a run: ``run_id`` searches find them too."""
        ...
