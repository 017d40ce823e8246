"""Traces in the SQL store; statements in ``traces`` and ``trace_search``.

Writes go through the store's one writer: the exporter's batch of finished traces is one
transaction, checked first (every trace's experiment exists and is active) so that a bad trace
writes nothing of the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

from tracklet import validation
from tracklet.entities import PagedList, Span, Trace, TraceInfo
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.store.sql import experiments as experiment_queries
from tracklet.store.sql import span_rows, trace_search
from tracklet.store.sql import traces as trace_queries
from tracklet.store.sql.compiled import Db
from tracklet.store.sql.store_base import SqlStoreBase
from tracklet.store.trace_base import SEARCH_TRACES_DEFAULT_MAX_RESULTS

_LINK_MAX = 100


def _experiment_of(info: TraceInfo) -> int:
    experiment_id = info.experiment_id
    if experiment_id is None:
        raise MlflowException(
            f"Trace {info.trace_id} has no MLflow experiment location.", INVALID_PARAMETER_VALUE
        )
    return validation.parse_experiment_id(experiment_id)


def _check_trace_id(trace_id: object) -> str:
    if not isinstance(trace_id, str) or not trace_id or len(trace_id) > 50:
        raise MlflowException(
            f"Invalid trace id {trace_id!r}: a non-empty string of at most 50 characters",
            INVALID_PARAMETER_VALUE,
        )
    return trace_id


class TraceSqlStore(SqlStoreBase):
    """The ``TraceStore`` methods of :class:`~tracklet.store.sql.store.SqlStore`: tables
    ``trace_info``, ``trace_tags``, ``trace_metadata``, ``spans``, ``trace_run_links``."""

    def _locations(self, db: Db, infos: Sequence[TraceInfo]) -> dict[int, str]:
        """Each experiment's artifact location, after checking it exists and is active."""
        return {
            experiment_id: experiment_queries.require_active(db, experiment_id)
            for experiment_id in {_experiment_of(info) for info in infos}
        }

    def log_traces(self, traces: Sequence[Trace]) -> None:
        for trace in traces:
            _check_trace_id(trace.info.trace_id)
        with self._writer.transaction() as db:
            locations = self._locations(db, [t.info for t in traces])
            bare = [t.info.trace_id for t in traces if not t.data.spans]
            spans_stored = trace_queries.with_spans(db, bare) if bare else set()
            infos = []
            for trace in traces:
                experiment_id = _experiment_of(trace.info)
                has_spans = bool(trace.data.spans) or trace.info.trace_id in spans_stored
                info = trace_queries.stored_info(trace.info, locations[experiment_id], has_spans)
                infos.append((info, experiment_id))
            trace_queries.write_infos(db, infos)
            span_rows.write_spans(db, [span_rows.span_row(s) for t in traces for s in t.data.spans])

    def start_trace(self, trace_info: TraceInfo) -> TraceInfo:
        _check_trace_id(trace_info.trace_id)
        with self._writer.transaction() as db:
            experiment_id = _experiment_of(trace_info)
            location = self._locations(db, [trace_info])[experiment_id]
            has_spans = bool(trace_queries.with_spans(db, [trace_info.trace_id]))
            info = trace_queries.stored_info(trace_info, location, has_spans)
            trace_queries.write_info(db, info, experiment_id)
        return info

    def log_spans(self, experiment_id: str, spans: Sequence[Span]) -> Sequence[Span]:
        parsed = validation.parse_experiment_id(experiment_id)
        by_trace: dict[str, list[Span]] = {}
        for span in spans:
            try:
                group = by_trace.get(span.trace_id)
            except TypeError:  # unhashable: refused with the message below
                group = None
            if group is None:  # each trace's id checked once, not once per span
                group = by_trace[_check_trace_id(span.trace_id)] = []
            group.append(span)
        with self._writer.transaction() as db:
            location = experiment_queries.require_active(db, parsed)
            known = trace_queries.existing(db, list(by_trace))
            done = trace_queries.finalized(db, list(known)) if known else set()
            infos = []
            for trace_id, trace_spans in by_trace.items():
                # A trace known only from spans so far is described by its root span once
                # that arrives (exporters send children first); a client's info wins.
                if trace_id not in known or (
                    trace_id not in done and any(s.parent_id is None for s in trace_spans)
                ):
                    info = trace_queries.info_from_spans(trace_id, str(parsed), trace_spans)
                    infos.append((trace_queries.stored_info(info, location, True, False), parsed))
            # One statement per table for the whole request, whatever its number of traces.
            trace_queries.write_infos(db, infos)
            span_rows.write_spans(db, map(span_rows.span_row, spans))
            trace_queries.mark_spans_stored(db, known)
        return spans

    def get_trace_info(self, trace_id: str) -> TraceInfo:
        with self._reader() as db:
            info = trace_queries.get_infos(db, [trace_id]).get(trace_id)
        if info is None:
            raise trace_queries.not_found(trace_id)
        return info

    def get_trace(self, trace_id: str) -> Trace:
        found = self.batch_get_traces([trace_id])
        if not found:
            raise trace_queries.not_found(trace_id)
        return found[0]

    def batch_get_traces(self, trace_ids: Sequence[str]) -> list[Trace]:
        with self._reader() as db:
            return trace_queries.get_traces(db, list(trace_ids))

    def search_traces(
        self,
        locations: Sequence[str],
        filter_string: str | None = None,
        max_results: int = SEARCH_TRACES_DEFAULT_MAX_RESULTS,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[TraceInfo]:
        with self._reader() as db:
            return trace_search.search(
                db, locations, filter_string, max_results, order_by, page_token
            )

    def delete_traces(
        self,
        experiment_id: str,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        parsed = validation.parse_experiment_id(experiment_id)
        if max_timestamp_millis is None and not trace_ids:
            raise MlflowException(
                "Either `max_timestamp_millis` or `trace_ids` must be specified.",
                INVALID_PARAMETER_VALUE,
            )
        if max_timestamp_millis is not None and trace_ids:
            raise MlflowException(
                "Only one of `max_timestamp_millis` and `trace_ids` can be specified.",
                INVALID_PARAMETER_VALUE,
            )
        if max_traces is not None and (not isinstance(max_traces, int) or max_traces <= 0):
            raise MlflowException(
                f"`max_traces` must be a positive integer, got {max_traces!r}.",
                INVALID_PARAMETER_VALUE,
            )
        with self._writer.transaction() as db:
            return trace_queries.delete(
                db, parsed, max_timestamp_millis, max_traces, list(trace_ids) if trace_ids else None
            )

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        key, value = trace_queries.check_tag(key, value)
        if key in trace_queries.IMMUTABLE_TAGS:
            raise MlflowException(
                f"Tag '{key}' is immutable and cannot be set on a trace.", INVALID_PARAMETER_VALUE
            )
        with self._writer.transaction() as db:
            trace_queries.set_tag(db, trace_id, key, value)

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        if key in trace_queries.IMMUTABLE_TAGS - {"mlflow.trace.archivalFailure"}:
            raise MlflowException(
                f"Tag '{key}' is immutable and cannot be deleted from a trace.",
                INVALID_PARAMETER_VALUE,
            )
        with self._writer.transaction() as db:
            trace_queries.delete_tag(db, trace_id, key)

    def link_traces_to_run(self, trace_ids: Sequence[str], run_id: str) -> None:
        if len(trace_ids) > _LINK_MAX:
            raise MlflowException(
                f"Cannot link more than {_LINK_MAX} traces to a run in a single request. "
                f"Provided {len(trace_ids)} traces.",
                INVALID_PARAMETER_VALUE,
            )
        with self._writer.transaction() as db:
            trace_queries.link_runs(db, list(trace_ids), run_id)
