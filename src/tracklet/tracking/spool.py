"""The durable side of asynchronous logging: an append-only, memory-mapped spool file.

Every point queued with ``synchronous=False`` is also copied into a spool file before the call
returns. The file is mapped shared, so the copy is in the operating system's page cache the
moment it is made: if the process is then killed (kill -9, an out-of-memory kill, a crash), the
kernel still holds it and writes it out, and the next process using the same store (or
``tracklet sync``) replays it into the store. A plain memory copy costs a fraction of a
microsecond, which a ``write()`` system call per point would not.

Limits: there is no fsync, so an operating-system crash or power loss can lose what the kernel
had not yet written to disk; and replay is at least once: the points the writer thread was
storing when the process died may be written twice (a metric history shows identical points
once, and params and tags are idempotent).

Layout: a 4 KiB header (magic, the offset up to which records are known to be stored, the
store's tracking URI), then records, each ``kind`` byte first. The kind byte is written last,
so a record torn by a kill mid-copy is never seen; a zero kind byte ends the log.
"""

from __future__ import annotations

import fcntl
import json
import logging
import mmap
import os
import struct
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tracklet import env
from tracklet.entities import Metric, Param, RunTag
from tracklet.exceptions import MlflowException

_logger = logging.getLogger(__name__)

HEADER = 4096
_MAGIC = b"TRKSPL01"
_APPLIED = struct.Struct("<Q")  # at offset 8
_URI_LEN = struct.Struct("<H")  # at offset 16, the URI follows
_SERIES = struct.Struct("<IHH")  # after the kind byte: series id, len(run_id), len(key)
_POINT = struct.Struct("<Iqqd")  # after the kind byte: series id, step, timestamp, value
_BLOB = struct.Struct("<I")  # after the kind byte: length of the JSON that follows
_KIND_SERIES, _KIND_POINT, _KIND_BATCH = 1, 2, 3
_POINT_SIZE = 1 + _POINT.size
_pack_point = _POINT.pack_into
# What the async logger's hot path needs to append a point itself (see Spool.add_point).
POINT_SIZE, KIND_POINT, pack_point = _POINT_SIZE, _KIND_POINT, _pack_point
_INITIAL_BYTES = 1 << 20
SUFFIX = ".spool"


def spool_directory() -> str:
    """Where spool files live: ``TRACKLET_ASYNC_SPOOL_DIR``, else the user's state directory
    (not /tmp, which a reboot may empty before the replay)."""
    configured = env.TRACKLET_ASYNC_SPOOL_DIR.get()
    if configured:
        return configured
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(state, "tracklet", "spool")


@dataclass
class Batch:
    """Params, tags and metrics (with their links) of one run, queued together."""

    run_id: str
    params: list[Param] = field(default_factory=list)
    tags: list[RunTag] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)


class Spool:
    """One process's spool file for one store. Not thread-safe: the async logger's lock
    guards every call.

    ``map`` (the mapping), ``length`` (its size), ``numbers`` (run_id -> key -> series
    number) and ``end`` are public for one reader: the async logger appends a point of a
    defined series itself when it fits, exactly as ``add_point`` does (a call would cost a
    fifth of the whole enqueue), and calls ``add_point`` otherwise.
    """

    def __init__(self, directory: str, tracking_uri: str) -> None:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self.path = os.path.join(directory, f"{os.getpid()}-{uuid.uuid4().hex[:12]}{SUFFIX}")
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            # Held while this process lives: a spool whose lock can be taken is an orphan.
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._reserve(_INITIAL_BYTES)
            self.map = mmap.mmap(self._fd, _INITIAL_BYTES)
            self.length = _INITIAL_BYTES
        except BaseException:
            os.close(self._fd)
            os.unlink(self.path)
            raise
        self._max = max(env.TRACKLET_ASYNC_SPOOL_MAX_BYTES.get(), _INITIAL_BYTES)
        uri = tracking_uri.encode()[: HEADER - 32]
        self.map[0:8] = _MAGIC
        _URI_LEN.pack_into(self.map, 16, len(uri))
        self.map[18 : 18 + len(uri)] = uri
        _APPLIED.pack_into(self.map, 8, HEADER)
        self.end = HEADER
        self.numbers: dict[str, dict[str, int]] = {}  # run_id -> key -> series number
        self._count = 0

    def _reserve(self, size: int) -> None:
        # Blocks are allocated now: writing a mapped page that has no block on a full disk
        # kills the process with SIGBUS, where this raises ENOSPC.
        os.posix_fallocate(self._fd, 0, size)

    def _room(self, size: int) -> bool:
        """Grow the file to take ``size`` more bytes; False at TRACKLET_ASYNC_SPOOL_MAX_BYTES."""
        needed = self.end + size
        length = len(self.map)
        if needed <= length:
            return True
        if needed > self._max:
            return False
        new_length = min(max(length * 2, needed), self._max)
        self._reserve(new_length)
        self.map.resize(new_length)
        self.length = new_length
        return True

    def add_point(self, run_id: str, key: str, step: int, timestamp: int, value: float) -> bool:
        """Append one metric point; False if the spool is full (the caller must make the
        point durable otherwise: write it through). The hot path of async logging: two dict
        lookups (identity hits on the caller's strings) and one pack into the mapping."""
        end = self.end
        try:
            number = self.numbers[run_id][key]
        except KeyError:
            return self._add_point_slowly(run_id, key, step, timestamp, value)
        if end + _POINT_SIZE > self.length:
            return self._add_point_slowly(run_id, key, step, timestamp, value)
        _pack_point(self.map, end + 1, number, step, timestamp, value)
        self.map[end] = _KIND_POINT  # last: a torn record stays invisible
        self.end = end + _POINT_SIZE
        return True

    def _add_point_slowly(
        self, run_id: str, key: str, step: int, timestamp: int, value: float
    ) -> bool:
        number = self.numbers.get(run_id, {}).get(key)
        if number is None:
            number = self._define(run_id, key)
            if number is None:
                return False
        if not self._room(_POINT_SIZE):
            return False
        end = self.end
        _pack_point(self.map, end + 1, number, step, timestamp, value)
        self.map[end] = _KIND_POINT
        self.end = end + _POINT_SIZE
        return True

    def _define(self, run_id: str, key: str) -> int | None:
        run_bytes, key_bytes = run_id.encode(), key.encode()
        size = 1 + _SERIES.size + len(run_bytes) + len(key_bytes)
        if not self._room(size):
            return None
        number = self._count
        start = self.end + 1 + _SERIES.size
        _SERIES.pack_into(self.map, self.end + 1, number, len(run_bytes), len(key_bytes))
        self.map[start : start + len(run_bytes)] = run_bytes
        self.map[start + len(run_bytes) : start + len(run_bytes) + len(key_bytes)] = key_bytes
        self.map[self.end] = _KIND_SERIES
        self.end += size
        self.numbers.setdefault(run_id, {})[key] = number
        self._count += 1
        return number

    def add_batch(self, batch: Batch) -> bool:
        """Append a batch; False if the spool is full."""
        metrics = [
            [m.key, m.value, m.timestamp, m.step, m.dataset_name, m.dataset_digest, m.model_id]
            for m in batch.metrics
        ]
        document = {
            "run_id": batch.run_id,
            "metrics": metrics,
            "params": [[p.key, p.value] for p in batch.params],
            "tags": [[t.key, t.value] for t in batch.tags],
        }
        data = json.dumps(document, separators=(",", ":")).encode()
        size = 1 + _BLOB.size + len(data)
        if not self._room(size):
            return False
        _BLOB.pack_into(self.map, self.end + 1, len(data))
        start = self.end + 1 + _BLOB.size
        self.map[start : start + len(data)] = data
        self.map[self.end] = _KIND_BATCH
        self.end += size
        return True

    def mark_stored(self, offset: int) -> None:
        """Everything before ``offset`` is in the store: a replay skips it."""
        _APPLIED.pack_into(self.map, 8, offset)

    def close(self) -> None:
        """Remove the spool: call only when everything in it is stored."""
        try:
            self.map.close()
        finally:
            os.close(self._fd)
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass


# ---------------------------------------------------------------------- replay


@dataclass
class Pending:
    """What a spool holds that may not be in its store yet."""

    tracking_uri: str
    points: dict[tuple[str, str], tuple[list[int], list[int], list[float]]] = field(
        default_factory=dict
    )
    batches: list[dict[str, Any]] = field(default_factory=list)

    def count(self) -> int:
        batched = sum(len(b["metrics"]) + len(b["params"]) + len(b["tags"]) for b in self.batches)
        return sum(len(c[0]) for c in self.points.values()) + batched


def read(data: bytes) -> Pending:
    """The records of a spool file after its stored mark (a torn or unknown tail ends it)."""
    if data[:8] != _MAGIC:
        raise ValueError("not a tracklet spool file")
    (applied,) = _APPLIED.unpack_from(data, 8)
    (uri_length,) = _URI_LEN.unpack_from(data, 16)
    pending = Pending(data[18 : 18 + uri_length].decode())
    series: dict[int, tuple[str, str]] = {}
    offset, length = HEADER, len(data)
    while offset < length:
        kind = data[offset]
        body = offset + 1
        if kind == _KIND_POINT and body + _POINT.size <= length:
            number, step, timestamp, value = _POINT.unpack_from(data, body)
            if offset >= applied and number in series:
                columns = pending.points.setdefault(series[number], ([], [], []))
                columns[0].append(step)
                columns[1].append(timestamp)
                columns[2].append(value)
            offset = body + _POINT.size
        elif kind == _KIND_SERIES and body + _SERIES.size <= length:
            number, run_length, key_length = _SERIES.unpack_from(data, body)
            start = body + _SERIES.size
            run_id = data[start : start + run_length].decode()
            key = data[start + run_length : start + run_length + key_length].decode()
            series[number] = (run_id, key)
            offset = start + run_length + key_length
        elif kind == _KIND_BATCH and body + _BLOB.size <= length:
            (size,) = _BLOB.unpack_from(data, body)
            start = body + _BLOB.size
            if offset >= applied:
                pending.batches.append(json.loads(data[start : start + size]))
            offset = start + size
        else:
            break
    return pending


def _uri_of(header: bytes) -> str | None:
    if header[:8] != _MAGIC or len(header) < 18:
        return None
    (length,) = _URI_LEN.unpack_from(header, 16)
    return header[18 : 18 + length].decode(errors="replace")


def orphans(directory: str) -> Iterator[tuple[str, int]]:
    """Spool files in ``directory`` whose process is gone, each locked (path, descriptor);
    the caller closes the descriptor."""
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return
    for name in names:
        if not name.endswith(SUFFIX):
            continue
        path = os.path.join(directory, name)
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)  # alive: its process holds the lock
            continue
        if os.fstat(fd).st_nlink == 0:
            os.close(fd)  # replayed and removed by another process meanwhile
            continue
        yield path, fd


def apply(pending: Pending, store: Any) -> int:
    """Write ``pending`` into ``store``; returns the number of points, params and tags
    written. A run that refuses them (deleted since, say) is logged and skipped; any other
    failure (the store is unreachable) is raised, and the spool kept for another try."""
    written = 0
    by_run: dict[str, dict[str, tuple[list[int], list[int], list[float]]]] = {}
    for (run_id, key), columns in pending.points.items():
        by_run.setdefault(run_id, {})[key] = columns
    for run_id, series in by_run.items():
        try:
            store.log_metric_columns(run_id, series)
            written += sum(len(c[0]) for c in series.values())
        except MlflowException as error:  # anything else (the store is down) keeps the spool
            _logger.error("Replaying spooled metrics of run %s failed: %s", run_id, error)
    for batch in pending.batches:
        run_id = batch["run_id"]
        metrics = [
            Metric(key, value, timestamp, step, dataset, digest, model_id, run_id)
            for key, value, timestamp, step, dataset, digest, model_id in batch["metrics"]
        ]
        params = [Param(k, v) for k, v in batch["params"]]
        tags = [RunTag(k, v) for k, v in batch["tags"]]
        try:
            store.log_batch(run_id, metrics, params, tags)
            written += len(metrics) + len(params) + len(tags)
        except MlflowException as error:
            _logger.error("Replaying spooled run data of run %s failed: %s", run_id, error)
    return written


def replay_orphans(directory: str, store_for: Any, only_uri: str | None = None) -> tuple[int, int]:
    """Replay and remove every orphaned spool in ``directory`` (only those of ``only_uri``
    when given). ``store_for(uri)`` gives the store to write into. Returns (files, entries)."""
    files = entries = 0
    for path, fd in orphans(directory):
        try:
            with open(path, "rb") as handle:
                if only_uri is not None and _uri_of(handle.read(HEADER)) != only_uri:
                    continue  # another store's: left for a process using it, or tracklet sync
                handle.seek(0)
                data = handle.read()
            try:
                pending = read(data)
            except (ValueError, UnicodeDecodeError, struct.error) as error:
                _logger.error("Skipping unreadable spool %s: %s", path, error)
                continue
            entries += apply(pending, store_for(pending.tracking_uri))
            files += 1
            os.unlink(path)
        finally:
            os.close(fd)
    return files, entries
