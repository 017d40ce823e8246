"""The server's one line per request, through ``logging`` or buffered onto the console.

Through ``logging`` a line costs about 30 µs of CPU and a ``write`` system call (the record, the
handler's lock, uvicorn's formatter copying the record to colour its level): a tenth of a whole
``log-batch`` request. ``tracklet server`` writes its log with one known handler, a plain
``StreamHandler`` whose format has no per-record fields but the message (``%(levelprefix)s
%(message)s``), so there the lines are formatted once per request into a buffer, and written in
whole lines, a few kilobytes at a time, within ``FLUSH_SECONDS`` of the request, before any other
record of the server's logger and at shutdown. Anything else (tests capturing records, a handler
of the user's, a format with a time or a caller) keeps the plain ``logging`` path.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import re
import threading
import weakref
from typing import TextIO

FLUSH_SECONDS = 0.1
# Writes of whole lines, at most one pipe buffer each: atomic, so lines of several worker
# processes sharing the console never interleave within a line.
_CHUNK_BYTES = 4096
# Formats whose output varies only with the message and the level (nothing per record).
_CONSTANT_FIELDS = re.compile(r"%\((?!(?:levelprefix|levelname|name|message)\))")
_SENTINEL = "\x00tracklet-line\x00"
_BUFFERED: weakref.WeakSet[BufferedAccessLog] = weakref.WeakSet()


def flush_all() -> None:
    """Write every held line now (the server's shutdown)."""
    for log in list(_BUFFERED):
        log.flush()


class AccessLog:
    """Writes request lines to ``logger`` as INFO records naming ``caller`` as their origin."""

    def __init__(self, logger: logging.Logger, caller: tuple[str, int, str]) -> None:
        self.logger = logger
        self.caller = caller

    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def write(self, line: str) -> None:
        # logger.info(line) less its search of the stack for the caller (a third of its
        # cost, on every request): the caller is known.
        path, lineno, func = self.caller
        record = self.logger.makeRecord(
            self.logger.name, logging.INFO, path, lineno, line, (), None, func
        )
        self.logger.handle(record)

    def flush(self) -> None:
        """Nothing is held back on this path."""


class BufferedAccessLog(AccessLog):
    """Lines formatted as ``handler`` would, written to its stream in batches."""

    def __init__(
        self,
        logger: logging.Logger,
        caller: tuple[str, int, str],
        handler: logging.StreamHandler[TextIO],
        prefix: str,
        suffix: str,
    ) -> None:
        super().__init__(logger, caller)
        self.handler = handler
        self.prefix = prefix
        self.suffix = suffix + handler.terminator
        self.lines: list[str] = []
        # Lines come from the event loop; a flush may come from any thread (a record of
        # another thread passing the handler's filter).
        self.lock = threading.Lock()
        _BUFFERED.add(self)

    def write(self, line: str) -> None:
        with self.lock:
            self.lines.append(line)
            first = len(self.lines) == 1
        if first:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # not on an event loop: nothing would flush it later
                self.flush()
                return
            loop.call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        with self.lock:
            lines, self.lines = self.lines, []
        if not lines:
            return
        prefix, suffix = self.prefix, self.suffix
        text = "".join([prefix + line + suffix for line in lines])
        handler = self.handler
        handler.acquire()
        try:
            stream = handler.stream
            stream.flush()  # what the handler wrote before goes first
            try:
                fd = stream.fileno()
            except (AttributeError, OSError, ValueError):
                stream.write(text)
                stream.flush()
                return
            encoding = getattr(stream, "encoding", None) or "utf-8"
            for chunk in _whole_line_chunks(text.encode(encoding, "replace")):
                while chunk:
                    chunk = chunk[os.write(fd, chunk) :]
        except Exception:
            record = self.logger.makeRecord(self.logger.name, logging.INFO, "", 0, text, (), None)
            handler.handleError(record)
        finally:
            handler.release()


def _whole_line_chunks(data: bytes) -> list[bytes]:
    chunks: list[bytes] = []
    while len(data) > _CHUNK_BYTES:
        cut = data.rfind(b"\n", 0, _CHUNK_BYTES) + 1 or _CHUNK_BYTES  # a line longer than that
        chunks.append(data[:cut])
        data = data[cut:]
    if data:
        chunks.append(data)
    return chunks


class _FlushFirst(logging.Filter):
    """On the buffered handler: lines held for the console go out before any other record."""

    def __init__(self, log: BufferedAccessLog) -> None:
        super().__init__()
        self.log = log

    def filter(self, record: logging.LogRecord) -> bool:
        self.log.flush()
        return True


def access_log(logger: logging.Logger, caller: tuple[str, int, str], buffered: bool) -> AccessLog:
    """The access log for ``logger``: buffered when asked and its records would go to exactly one
    plain console handler whose lines differ only by message; else through ``logging``."""
    if buffered:
        handler = _only_stream_handler(logger)
        if handler is not None:
            formatter = handler.formatter or logging.Formatter()
            fmt = getattr(formatter, "_fmt", None) or "%(message)s"
            if not _CONSTANT_FIELDS.search(fmt) and fmt.count("%(message)s") == 1:
                probe = logger.makeRecord(logger.name, logging.INFO, "", 0, _SENTINEL, (), None)
                prefix, _, suffix = formatter.format(probe).partition(_SENTINEL)
                log = BufferedAccessLog(logger, caller, handler, prefix, suffix)
                handler.addFilter(_FlushFirst(log))
                return log
    return AccessLog(logger, caller)


def _only_stream_handler(logger: logging.Logger) -> logging.StreamHandler[TextIO] | None:
    handlers: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        handlers += current.handlers
        current = current.parent if current.propagate else None
    if len(handlers) != 1 or type(handlers[0]) is not logging.StreamHandler:
        return None
    handler: logging.StreamHandler[TextIO] = handlers[0]
    if handler.filters or handler.level > logging.INFO:
        return None
    return handler


atexit.register(flush_all)
