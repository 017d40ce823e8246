"""Metric series for charts.

``POST /ajax-api/2.0/tracklet/metrics/series``: many (run, key) series in one request (a whole
chart grid; browsers open only six connections per host), each cut to ``[x_min, x_max]`` and
reduced by M4 to at most four points per pixel column, with a min/max band when reduced, as JSON
or (``"format": "binary"``) as float64 columns (series_binary.py). The
series are named (``series``: ``[{run_id, key}]``) or are a run's model or system metrics
(``run_id`` and ``keys``: ``"model"`` or ``"system"``, the first MAX_SERIES keys in order): what
a run page's chart grid shows, which index.html's bootstrap asks for before the app knows the
run's keys.
``GET /ajax-api/2.0/tracklet/metrics/raw``: one series at full resolution as little-endian
binary (``n`` as uint64, ``n`` int64 x values, ``n`` float64 y values).
"""

from __future__ import annotations

import importlib.util
import math
import struct
from array import array
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, cast

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracklet.entities.metric import MetricHistory
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.server.rpc import state_of
from tracklet.server.ui import series_binary
from tracklet.server.ui.downsample import Reduced, in_range, m4
from tracklet.server.ui.replies import field, json_body, json_reply, reply
from tracklet.store.base import TrackingStore

PREFIX = "/ajax-api/2.0/tracklet"
MAX_SERIES = 100
MAX_WIDTH = 4096
X_KINDS = ("step", "wall", "relative")


def _number(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def series_columns(history: MetricHistory, x: str) -> tuple[list[int], list[int], array[float]]:
    """(x values ascending, steps, values) of a metric's history: x is the step, the timestamp
    in ms ("wall") or ms since the first point ("relative")."""
    steps = _as_list(history.steps)
    values = array("d", history.values)
    if x == "step":
        if steps != sorted(steps):  # histories come in time order; steps usually agree
            order = sorted(range(len(steps)), key=steps.__getitem__)
            steps = [steps[i] for i in order]
            values = array("d", (values[i] for i in order))
        return steps, steps, values
    stamps = _as_list(history.timestamps)
    if stamps != sorted(stamps):
        order = sorted(range(len(stamps)), key=stamps.__getitem__)
        stamps = [stamps[i] for i in order]
        steps = [steps[i] for i in order]
        values = array("d", (values[i] for i in order))
    if x == "relative" and stamps:
        first = stamps[0]
        return [t - first for t in stamps], steps, values
    return stamps, steps, values


def _as_list(numbers: Sequence[int]) -> list[int]:
    return numbers.tolist() if isinstance(numbers, array) else list(numbers)


def _numbers(values: list[float]) -> list[float | str]:
    """JSON numbers, with MLflow's strings for NaN and the infinities (one C-level pass when
    every value is finite, as almost always)."""
    if all(map(math.isfinite, values)):
        return cast(list[float | str], values)
    return [_number(v) for v in values]


def one_series(
    store: TrackingStore,
    run_id: str,
    key: str,
    x: str,
    x_min: float | None,
    x_max: float | None,
    width: int,
    band: bool,
) -> dict[str, Any]:
    if _has_numpy():
        found = _one_series_arrays(store, run_id, key, x, x_min, x_max, width, band)
        if found is not None:
            return found
    history = store.get_metric_history(run_id, key)
    # Histories come in time order (TrackingStore.get_metric_history): the last is the latest.
    last_step = history.steps[-1] if len(history) else None
    last_timestamp = history.timestamps[-1] if len(history) else None
    xs, _, ys = series_columns(history, x)
    start, stop = in_range(xs, x_min, x_max)
    reduced = m4(xs, ys, start, stop, width)
    points = ([xs[i] for i in reduced.indices], [ys[i] for i in reduced.indices])
    return _series(
        run_id, key, (len(xs), stop - start), (last_step, last_timestamp), reduced, points, band
    )


def _one_series_arrays(
    store: TrackingStore,
    run_id: str,
    key: str,
    x: str,
    x_min: float | None,
    x_max: float | None,
    width: int,
    band: bool,
) -> dict[str, Any] | None:
    """one_series over numpy columns (series_arrays, downsample_arrays): the same answer, ~20
    times less CPU for a long history. None when its x values are too large for int64
    arithmetic (the Python path answers those)."""
    from tracklet.server.ui import downsample_arrays, series_arrays

    history = series_arrays.read_history(store, run_id, key)
    columns = series_arrays.x_columns(history, x)
    if columns is None:
        return None
    xs, ys = columns
    n = len(xs)
    last_step = int(history.steps[-1]) if n else None
    last_timestamp = int(history.timestamps[-1]) if n else None
    start, stop = downsample_arrays.in_range(xs, x_min, x_max)
    reduced, indices = downsample_arrays.m4(xs, ys, start, stop, width)
    points = (xs[indices].tolist(), ys[indices].tolist())
    return _series(
        run_id, key, (n, stop - start), (last_step, last_timestamp), reduced, points, band
    )


@cache
def _has_numpy() -> bool:
    return importlib.util.find_spec("numpy") is not None


def _series(
    run_id: str,
    key: str,
    counts: tuple[int, int],
    last: tuple[int | None, int | None],
    reduced: Reduced,
    points: tuple[list[Any], list[float]],
    band: bool,
) -> dict[str, Any]:
    """The answer for one series: ``counts`` (total, in range), ``last`` (step, timestamp) and
    the ``points`` (x, y) M4 kept, with its min/max band when asked for and sampled."""
    out: dict[str, Any] = {
        "run_id": run_id,
        "key": key,
        "n_total": counts[0],
        "n_in_range": counts[1],
        "sampled": reduced.sampled,
        "x": points[0],
        "y": points[1],
        "band": None,
        "last_step": last[0],
        "last_timestamp": last[1],
    }
    if band and reduced.band_min is not None and reduced.band_max is not None:
        out["band"] = {"x": points[0], "min": reduced.band_min, "max": reduced.band_max}
    return out


def as_json(series: dict[str, Any]) -> dict[str, Any]:
    """A series of one_series with MLflow's strings for NaN and the infinities."""
    out = {**series, "y": _numbers(series["y"])}
    if series["band"] is not None:
        band = series["band"]
        out["band"] = {**band, "min": _numbers(band["min"]), "max": _numbers(band["max"])}
    return out


def _bound(body: dict[str, Any], name: str) -> float | None:
    value = field(body, name, (int, float), None)
    return None if value is None else float(value)


SYSTEM_PREFIX = "system/"
Pairs = list[tuple[str, str]]  # (run_id, key)


def run_keys(store: TrackingStore, run_id: str, kind: str) -> Pairs:
    """The run's model (not ``system/...``) or system metric keys, sorted, at most MAX_SERIES."""
    keys = sorted(
        key
        for key in store.get_run(run_id).data.metrics
        if key.startswith(SYSTEM_PREFIX) == (kind == "system")
    )
    return [(run_id, key) for key in keys[:MAX_SERIES]]


async def series(request: Request) -> Response:
    body = await json_body(request)
    if "series" not in body and "run_id" in body:
        return await _run_series(request, body)
    wanted = field(body, "series", list, [])
    if not 1 <= len(wanted) <= MAX_SERIES:
        raise MlflowException(
            f"Invalid value for parameter 'series' supplied: 1 to {MAX_SERIES} series.",
            INVALID_PARAMETER_VALUE,
        )
    pairs: Pairs = []
    for item in wanted:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("run_id"), str)
            and isinstance(item.get("key"), str)
        ):
            raise MlflowException(
                "Invalid value for parameter 'series' supplied: each is {run_id, key}.",
                INVALID_PARAMETER_VALUE,
            )
        pairs.append((item["run_id"], item["key"]))
    return await _reply(request, body, lambda _store: pairs)


async def _run_series(request: Request, body: dict[str, Any]) -> Response:
    run_id = field(body, "run_id", str, "")
    kind = field(body, "keys", str, "")
    if not run_id or kind not in ("model", "system"):
        raise MlflowException(
            "Invalid value for parameter 'keys' supplied: 'model' or 'system' with a 'run_id'.",
            INVALID_PARAMETER_VALUE,
        )
    return await _reply(request, body, lambda store: run_keys(store, run_id, kind))


async def _reply(
    request: Request, body: dict[str, Any], pairs_of: Callable[[TrackingStore], Pairs]
) -> Response:
    """The series of ``pairs_of(store)`` with the body's x, width, range and band."""
    x = field(body, "x", str, "step")
    if x not in X_KINDS:
        raise MlflowException(
            f"Invalid value {x!r} for parameter 'x' supplied: one of {', '.join(X_KINDS)}.",
            INVALID_PARAMETER_VALUE,
        )
    width = field(body, "width", int, 1000)
    if not 1 <= width <= MAX_WIDTH:
        raise MlflowException(
            f"Invalid value {width} for parameter 'width' supplied: 1 to {MAX_WIDTH}.",
            INVALID_PARAMETER_VALUE,
        )
    x_min, x_max = _bound(body, "x_min"), _bound(body, "x_max")
    band = field(body, "band", bool, True)
    form = field(body, "format", str, "json")
    if form not in ("json", "binary"):
        raise MlflowException(
            f"Invalid value {form!r} for parameter 'format' supplied: 'json' or 'binary'.",
            INVALID_PARAMETER_VALUE,
        )
    store = state_of(request).store

    def answer() -> Response:
        found = [one_series(store, r, k, x, x_min, x_max, width, band) for r, k in pairs_of(store)]
        if form == "binary":  # float64s: barely compressible, and nothing to encode or parse
            return reply(request, series_binary.encode(found), series_binary.MEDIA_TYPE, False)
        return json_reply(request, {"series": [as_json(one) for one in found]})

    # Encoded and compressed off the event loop too (zlib lets go of the GIL meanwhile), so
    # that a big answer does not hold up the page's other requests.
    return await run_in_threadpool(answer)


async def raw(request: Request) -> Response:
    params = request.query_params
    run_id, key, x = params.get("run_id", ""), params.get("key", ""), params.get("x", "step")
    if not run_id or not key:
        raise MlflowException(
            "Missing value for required parameter 'run_id' or 'key'.", INVALID_PARAMETER_VALUE
        )
    if x not in X_KINDS:
        raise MlflowException(
            f"Invalid value {x!r} for parameter 'x' supplied: one of {', '.join(X_KINDS)}.",
            INVALID_PARAMETER_VALUE,
        )
    store = state_of(request).store

    def encode() -> bytes:
        if _has_numpy():
            from tracklet.server.ui import series_arrays

            columns = series_arrays.x_columns(series_arrays.read_history(store, run_id, key), x)
            if columns is not None:
                n = struct.pack("<Q", len(columns[0]))
                return n + columns[0].astype("<i8").tobytes() + columns[1].astype("<f8").tobytes()
        xs, _, ys = series_columns(store.get_metric_history(run_id, key), x)
        xs_array = array("q", xs)
        if struct.pack("=H", 1) != struct.pack("<H", 1):  # big-endian host: wire is little
            xs_array.byteswap()
            ys.byteswap()
        return struct.pack("<Q", len(xs)) + xs_array.tobytes() + ys.tobytes()

    data = await run_in_threadpool(encode)
    return reply(request, data, "application/octet-stream", compress=False)


routes = [
    Route(f"{PREFIX}/metrics/series", series, methods=["POST"]),
    Route(f"{PREFIX}/metrics/raw", raw, methods=["GET"]),
]
