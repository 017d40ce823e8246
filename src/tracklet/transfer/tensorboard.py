"""``tracklet import LOGDIR``: TensorBoard event files' scalars as runs, with no TensorFlow.

Event files are TFRecord files (length, CRC, an ``Event`` protobuf, CRC). The few protobuf
fields scalars use are read by hand: ``Event.wall_time`` (1), ``step`` (2), ``summary`` (5) ->
``Summary.value`` (1) -> ``Value.tag`` (1) and either ``simple_value`` (2, what PyTorch and
tensorboardX write) or ``tensor`` (8, TF2's ``tf.summary.scalar``: ``float_val`` 5,
``double_val`` 6, ``int64_val`` 10 or a scalar ``tensor_content`` 4 of dtype float, double or
int). Each directory holding event files becomes one run (named after its path under LOGDIR) in
an experiment named after LOGDIR; a run imported before (same experiment, same name, tagged with
its source) is skipped, so importing twice adds nothing.
"""

from __future__ import annotations

import os
import struct
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException

if TYPE_CHECKING:
    from tracklet.store.sql.store import SqlStore

Progress = Callable[[int | None, str, str], Any]
SOURCE_TAG = "tracklet.import.tensorboard"
_SCALAR_DTYPES = {1: "<f", 2: "<d", 3: "<i", 9: "<q"}  # DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64


def _varint(data: bytes, at: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[at]
        at += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, at
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of a protobuf message; a length-delimited value is bytes."""
    at, end = 0, len(data)
    while at < end:
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 1:
            value, at = data[at : at + 8], at + 8
        elif wire == 2:
            size, at = _varint(data, at)
            value, at = data[at : at + size], at + size
        elif wire == 5:
            value, at = data[at : at + 4], at + 4
        else:  # groups (3, 4) are not used by summaries
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def _tensor_scalar(data: bytes) -> float | None:
    dtype = 0
    for number, wire, value in _fields(data):
        if number == 1 and wire == 0:
            dtype = value
        elif number == 5:  # float_val, packed or not
            return float(struct.unpack("<f", value[:4])[0])
        elif number == 6:
            return float(struct.unpack("<d", value[:8])[0])
        elif number == 10:
            return float(_varint(value, 0)[0] if wire == 2 else value)
        elif number == 4 and dtype in _SCALAR_DTYPES:
            fmt = _SCALAR_DTYPES[dtype]
            if len(value) == struct.calcsize(fmt):
                return float(struct.unpack(fmt, value)[0])
    return None


def read_scalars(path: str) -> Iterator[tuple[str, int, int, float]]:
    """(tag, step, timestamp in ms, value) of every scalar in one event file."""
    with open(path, "rb") as file:
        data = file.read()
    at = 0
    while at + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, at)
        record = data[at + 12 : at + 12 + length]
        at += 12 + length + 4
        if len(record) < length:
            break  # a file still being written ends with a partial record
        wall_time, step, summary = 0.0, 0, b""
        for number, _, value in _fields(record):
            if number == 1:
                wall_time = struct.unpack("<d", value)[0]
            elif number == 2:
                step = value - (1 << 64) if value >= 1 << 63 else value
            elif number == 5:
                summary = value
        for number, _, value in _fields(summary):
            if number != 1:
                continue
            tag, scalar = "", None
            for field, wire, item in _fields(value):
                if field == 1:
                    tag = item.decode("utf-8", "replace")
                elif field == 2 and wire == 5:
                    scalar = float(struct.unpack("<f", item)[0])
                elif field == 8:
                    scalar = _tensor_scalar(item)
            if tag and scalar is not None:
                yield tag, step, int(wall_time * 1000), scalar


def _event_dirs(logdir: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for top, _, names in os.walk(logdir):
        files = sorted(n for n in names if "tfevents" in n)
        if files:
            found[top] = [os.path.join(top, n) for n in files]
    return dict(sorted(found.items()))


def import_tensorboard(logdir: str, store: SqlStore, progress: Progress) -> Counter[str]:
    """Import the scalars under ``logdir`` into ``store``; returns what was added."""
    from tracklet.entities import ExperimentTag, RunTag
    from tracklet.store.base import MetricColumns

    runs = _event_dirs(logdir)
    if not runs:
        raise MlflowException(
            f"{logdir} holds no TensorBoard event files (*tfevents*) and is not an MLflow "
            "mlruns directory (<experiment id>/meta.yaml) nor a database URI",
            INVALID_PARAMETER_VALUE,
        )
    counts: Counter[str] = Counter()
    root = os.path.abspath(logdir)
    name = os.path.basename(root.rstrip(os.sep)) or root
    experiment = store.get_experiment_by_name(name)
    if experiment is None:
        experiment_id = store.create_experiment(name, tags=[ExperimentTag(SOURCE_TAG, root)])
        counts["experiments"] += 1
    else:
        experiment_id = experiment.experiment_id
    done = {
        run.data.tags.get(SOURCE_TAG)
        for run in store.search_runs([experiment_id], run_view_type=3, max_results=50_000)
    }
    with progress(len(runs), "Importing event files", "run") as bar:
        for directory, files in runs.items():
            relative = os.path.relpath(directory, root)
            if directory in done:
                counts["runs already present"] += 1
                bar.update()
                continue
            series: defaultdict[str, tuple[list[int], list[int], list[float]]] = defaultdict(
                lambda: ([], [], [])
            )
            for path in files:
                for tag, step, timestamp, value in read_scalars(path):
                    steps, timestamps, values = series[tag]
                    steps.append(step)
                    timestamps.append(timestamp)
                    values.append(value)
            times = [t for s in series.values() for t in s[1]]
            run = store.create_run(
                experiment_id,
                user_id=os.environ.get("USER", "unknown"),
                start_time=min(times) if times else int(os.path.getmtime(files[0]) * 1000),
                tags=[RunTag(SOURCE_TAG, directory)],
                run_name=name if relative == "." else relative,
            )
            columns: dict[str, MetricColumns] = {k: v for k, v in series.items()}
            if columns:
                store.log_metric_columns(run.info.run_id, columns)
            store.update_run_info(run.info.run_id, "FINISHED", max(times) if times else None, None)
            counts["runs"] += 1
            counts["metric series"] += len(columns)
            counts["metric points"] += len(times)
            bar.update()
    return counts
