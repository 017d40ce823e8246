"""Which span is active: a context variable, so nesting follows the call stack through
threads that copy the context (``contextvars.copy_context().run``) and through ``asyncio``
tasks, which copy it when created; a thread started without the context begins new traces.
"""

from __future__ import annotations

import contextvars
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracklet.tracing.span import LiveSpan

current_span: contextvars.ContextVar[LiveSpan | None] = contextvars.ContextVar(
    "tracklet_current_span", default=None
)


class _Switch:
    """tracing.disable() / enable(): one process-wide flag read on every traced call."""

    enabled = True


switch = _Switch()


class _Last(threading.local):
    trace_id: str | None = None


_last_thread = _Last()
_last_process: list[str | None] = [None]


def set_last_trace_id(trace_id: str) -> None:
    _last_thread.trace_id = trace_id
    _last_process[0] = trace_id


def last_trace_id(thread_local: bool = False) -> str | None:
    """The id of the last trace whose root span ended (this thread's, or the process's)."""
    return _last_thread.trace_id if thread_local else _last_process[0]
