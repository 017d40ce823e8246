"""Tracing: ``@trace`` and spans, written to the tracking store off the caller's thread.

``tracing.disable()`` turns every traced call into a plain call (spans become no-ops);
``tracing.enable()`` turns tracing back on.
"""

from tracklet.tracing.api import (
    flush_trace_async_logging,
    get_active_trace_id,
    get_current_active_span,
    start_span,
    start_span_no_context,
    update_current_trace,
)
from tracklet.tracing.context import last_trace_id, switch
from tracklet.tracing.decorator import trace
from tracklet.tracing.fluent import delete_trace_tag, get_trace, search_traces, set_trace_tag
from tracklet.tracing.span import LiveSpan, NoOpSpan


def disable() -> None:
    """Stop recording traces in this process: traced functions run untraced."""
    switch.enabled = False


def enable() -> None:
    """Record traces again after :func:`disable`."""
    switch.enabled = True


def is_enabled() -> bool:
    return switch.enabled


def get_last_active_trace_id(thread_local: bool = False) -> str | None:
    """The id of the last trace finished in this process (or, with ``thread_local``, thread).

    Args:
        thread_local: The last trace finished on this thread instead.

    Returns:
        The trace id, or None if none has finished.
    """
    return last_trace_id(thread_local)


__all__ = [
    "LiveSpan",
    "NoOpSpan",
    "delete_trace_tag",
    "disable",
    "enable",
    "flush_trace_async_logging",
    "get_active_trace_id",
    "get_current_active_span",
    "get_last_active_trace_id",
    "get_trace",
    "is_enabled",
    "search_traces",
    "set_trace_tag",
    "start_span",
    "start_span_no_context",
    "trace",
    "update_current_trace",
]
