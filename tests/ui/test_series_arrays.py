"""The chart series over numpy columns (series_arrays, downsample_arrays, store/sql/metric_records)
give exactly the answers of the pure-Python path (series_columns over get_metric_history and
downsample.m4) and of a straightforward reference written here, on random data with spikes,
NaN, infinities, -0.0, duplicate and out-of-order points; on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import random
import struct
import warnings
from array import array
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tracklet.entities import Metric
from tracklet.exceptions import MlflowException
from tracklet.server.app import create_app
from tracklet.server.settings import ServerSettings
from tracklet.server.ui import downsample, downsample_arrays, series
from tracklet.store.sql import metric_codec
from tracklet.store.sql.metric_records import read_records
from tracklet.store.sql.store import SqlStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

NAN, INF = math.nan, math.inf


def _reference_m4(
    xs: list[int], ys: list[float], start: int, stop: int, width: int
) -> tuple[list[int], list[float], list[float]] | None:
    """M4 the long way: each point put in its pixel column by walking the column edges
    ``lo + span * c / width``; per column its first and last point and its first minimum and
    maximum among the numbers (the first point when it has none). None when not sampled."""
    if stop - start <= 4 * width:
        return None
    lo, hi = xs[start], xs[stop - 1]
    span = (hi - lo) or 1
    columns: dict[int, list[int]] = {}
    column = 1
    for i in range(start, stop):
        while column < width and xs[i] >= lo + span * column / width:
            column += 1
        columns.setdefault(column, []).append(i)
    indices: list[int] = []
    band_min: list[float] = []
    band_max: list[float] = []
    for members in columns.values():
        numbers = [i for i in members if not math.isnan(ys[i])]
        low = high = members[0]
        if numbers:
            low_value = min(ys[i] for i in numbers)
            high_value = max(ys[i] for i in numbers)
            low = next(i for i in numbers if ys[i] == low_value)
            high = next(i for i in numbers if ys[i] == high_value)
        picked = sorted({members[0], members[-1], low, high})
        indices += picked
        band_min += [ys[low]] * len(picked)
        band_max += [ys[high]] * len(picked)
    return indices, band_min, band_max


def _exact(values: list[float]) -> bytes:
    """Floats compared bit for bit (NaN equal to NaN, -0.0 unlike 0.0)."""
    return struct.pack(f"<{len(values)}d", *values)


def _values(rng: random.Random, n: int) -> list[float]:
    ys = [rng.gauss(0, 1) for _ in range(n)]
    for _ in range(max(1, n // 50)):  # runs of oddities, so that some columns start with them
        at = rng.randrange(n)
        odd = rng.choice([NAN, INF, -INF, 0.0, -0.0, 1e300])
        for i in range(at, min(n, at + rng.randrange(1, 6))):
            ys[i] = odd
    ys[n * 2 // 9], ys[n * 7 // 9] = -1e6, 1e6
    return ys


def test_m4_arrays_equal_python_m4_and_reference() -> None:
    rng = random.Random(7)
    for trial in range(60):
        n = rng.choice([1, 5, 100, 999, 5000, 20_000])
        xs = sorted(rng.randrange(-50, 3 * n) for _ in range(n))  # repeats and gaps
        if trial % 3 == 0:
            xs = list(range(n))
        ys = _values(rng, n)
        if trial % 5 == 0:  # a column made of NaN only, and one starting with NaN
            ys[: n // 3] = [NAN] * (n // 3)
        x_arr, y_arr = np.array(xs, dtype=np.int64), np.array(ys)
        for width in (1, 3, 17, 250):
            bounds = [(None, None), (rng.uniform(-60, 3 * n), None), (None, rng.uniform(0, n))]
            for x_min, x_max in bounds:
                start, stop = downsample.in_range(xs, x_min, x_max)
                assert downsample_arrays.in_range(x_arr, x_min, x_max) == (start, stop)
                python = downsample.m4(xs, array("d", ys), start, stop, width)
                fast, indices = downsample_arrays.m4(x_arr, y_arr, start, stop, width)
                assert fast.indices == python.indices == indices.tolist()
                assert fast.sampled == python.sampled
                reference = _reference_m4(xs, ys, start, stop, width)
                if reference is None:
                    assert not fast.sampled
                    assert fast.indices == list(range(start, stop))
                    continue
                assert fast.band_min is not None
                assert fast.band_max is not None
                assert python.band_min is not None
                assert python.band_max is not None
                assert fast.indices == reference[0]
                assert _exact(fast.band_min) == _exact(python.band_min) == _exact(reference[1])
                assert _exact(fast.band_max) == _exact(python.band_max) == _exact(reference[2])
                # The range's extremes (the spikes, unless an infinity beats them) survive.
                numbers = [i for i in range(start, stop) if not math.isnan(ys[i])]
                if numbers:
                    lowest = min(numbers, key=lambda i: (ys[i], i))
                    highest = min(numbers, key=lambda i: (-ys[i], i))
                    assert {lowest, highest} <= set(fast.indices)


def test_m4_of_a_column_starting_with_nan() -> None:
    """The Python M4 raised ValueError (array.index(nan)) here; both now skip NaN for the
    column's minimum and maximum, as they did when NaN was not first."""
    ys = [NAN, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    xs = list(range(10))
    python = downsample.m4(xs, array("d", ys), 0, 10, 2)
    fast, _ = downsample_arrays.m4(np.arange(10), np.array(ys), 0, 10, 2)
    assert python == fast
    assert python.indices == [0, 1, 4, 5, 9]
    assert python.band_min == [1.0] * 3 + [5.0] * 2
    assert python.band_max == [4.0] * 3 + [9.0] * 2


@pytest.mark.parametrize(
    ("x_min", "x_max"),
    [(NAN, NAN), (-INF, INF), (INF, -INF), (1e30, None), (None, -1e30), (2.5, 7.5), (3.0, 3.0)],
)
def test_in_range_arrays_of_odd_bounds(x_min: float | None, x_max: float | None) -> None:
    xs = [0, 1, 2, 3, 3, 3, 4, 5, 8, 9]
    assert downsample_arrays.in_range(np.array(xs), x_min, x_max) == downsample.in_range(
        xs, x_min, x_max
    )


def _log(store: SqlStore, run_id: str, key: str, points: list[tuple[int, int, float]]) -> None:
    """Points in pieces of random sizes: short ones land in the tail (and move it into a
    chunk when it fills), long ones in chunks of their own; some one by one."""
    rng = random.Random(len(points))
    i = 0
    while i < len(points):
        size = rng.choice([1, 5, 31, 40, 700])
        piece = points[i : i + size]
        if size == 1:
            step, timestamp, value = piece[0]
            store.log_metric(run_id, Metric(key, value, timestamp, step))
        else:
            store.log_metric_columns(
                run_id,
                {key: tuple(map(list, zip(*piece, strict=True)))},  # type: ignore[dict-item]
            )
        i += size


def _histories(rng: random.Random) -> dict[str, list[tuple[int, int, float]]]:
    n = 6000
    ys = _values(rng, n)
    # In time order, the spikes the largest numbers (NaN kept: never a column's extreme).
    in_order = [(i, 1000 + i, ys[i] if not abs(ys[i]) > 1e6 else 0.5) for i in range(n)]
    # One millisecond for many points, steps rising within it (log_batch's usual shape).
    same_ms = [(i, 1000 + i // 100, ys[i]) for i in range(n)]
    # Any order: timestamps and steps repeat and fall, exact duplicates (dropped by MLflow's
    # order), NaN among the duplicates.
    shuffled = [(rng.randrange(-5, 2000), rng.randrange(3000), ys[i]) for i in range(n)]
    shuffled += rng.sample(shuffled, 300)
    shuffled += [(7, 7, NAN), (7, 7, NAN), (7, 7, -0.0), (7, 7, 0.0), (7, 7, -0.0)]
    rng.shuffle(shuffled)
    # Steps far beyond int64 arithmetic's safe range: the Python path answers.
    huge = [(2**62 + i * 2**50, 1000 + i, ys[i]) for i in range(300)]
    return {"in_order": in_order, "same_ms": same_ms, "shuffled": shuffled, "huge": huge}


def _canonical(one: dict[str, Any]) -> dict[str, Any]:
    out = {**one, "y": _exact(one["y"])}
    if one["band"] is not None:
        band = one["band"]
        out["band"] = {"x": band["x"], "min": _exact(band["min"]), "max": _exact(band["max"])}
    return out


def _python_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(series, "_has_numpy", lambda: False)


def _reference_series(
    store: SqlStore, run_id: str, key: str, x: str, x_min: Any, x_max: Any, width: int
) -> tuple[list[int], list[float], int]:
    """(x, y, points in range) from the history's Metric objects, by plain sorting and M4."""
    history = list(store.get_metric_history(run_id, key))
    if x == "step":
        points = sorted(((m.step, m.value) for m in history), key=lambda p: p[0])
    else:
        first = history[0].timestamp if history and x == "relative" else 0
        points = [(m.timestamp - first, m.value) for m in history]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    start = next((i for i, v in enumerate(xs) if x_min is None or v >= x_min), len(xs))
    stop = next((i for i, v in enumerate(xs) if x_max is not None and v > x_max), len(xs))
    stop = max(start, stop)
    reduced = _reference_m4(xs, ys, start, stop, width)
    indices = list(range(start, stop)) if reduced is None else reduced[0]
    return [xs[i] for i in indices], [ys[i] for i in indices], stop - start


def test_series_equal_python_path_and_reference(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(3)
    run_id = store.create_run("0", "u", 0, [], "r").info.run_id
    histories = _histories(rng)
    for key, points in histories.items():
        _log(store, run_id, key, points)
    cases = [
        (key, x, width, x_min, x_max)
        for key in histories
        for x in series.X_KINDS
        for width in (1, 40, 1000)
        for x_min, x_max in [(None, None), (300.5, None), (None, 1500), (-INF, NAN)]
    ]
    fast = [series.one_series(store, run_id, *case[:2], *case[3:], case[2], True) for case in cases]
    with monkeypatch.context() as patched:
        _python_path(patched)
        python = [
            series.one_series(store, run_id, *case[:2], *case[3:], case[2], True) for case in cases
        ]
    for case, one, slow in zip(cases, fast, python, strict=True):
        assert _canonical(one) == _canonical(slow), case
        key, x, width, x_min, x_max = case
        bounds = (None if x_min is None or math.isinf(x_min) else x_min, x_max)
        if isinstance(x_max, float) and math.isnan(x_max):
            bounds = (bounds[0], None)
        xs, ys, in_range = _reference_series(store, run_id, key, x, *bounds, width)
        assert (one["x"], _exact(one["y"]), one["n_in_range"]) == (xs, _exact(ys), in_range), case
    spiky = fast[cases.index(("in_order", "step", 40, None, None))]
    assert spiky["sampled"]
    assert (max(spiky["y"]), min(spiky["y"])) == (1e6, -1e6)
    assert spiky["n_total"] == 6000
    assert (spiky["last_step"], spiky["last_timestamp"]) == (5999, 6999)
    assert max(spiky["band"]["max"]) == 1e6
    shuffled = fast[cases.index(("shuffled", "step", 1000, None, None))]
    assert shuffled["n_total"] == len(store.get_metric_history(run_id, "shuffled"))
    assert shuffled["n_total"] < len(histories["shuffled"])  # duplicates dropped


def test_read_records_in_storage_order(store: SqlStore) -> None:
    """The records of the chunks then the tail, those get_metric_history orders; b""
    for a run without the key; the run's absence an error; wide batches folded first."""
    run_id = store.create_run("0", "u", 0, [], "r").info.run_id
    points = [(i % 7, 50 - i, float(i)) for i in range(100)]
    _log(store, run_id, "m", points)
    columns = metric_codec.unpack_points([read_records(store, run_id, "m")])
    # Every point once (a chunk written after a short tail comes before it: not log order) ...
    assert sorted(zip(*columns, strict=True)) == sorted(points)
    # ... and in MLflow's order, get_metric_history's columns.
    history = store.get_metric_history(run_id, "m")
    ordered = metric_codec.in_history_order(*columns)
    assert [list(c) for c in ordered] == [
        list(history.steps),
        list(history.timestamps),
        list(history.values),
    ]
    assert read_records(store, run_id, "other") == b""
    with pytest.raises(MlflowException) as missing:
        read_records(store, "0" * 32, "m")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    wide = [Metric(f"k{i}", float(i), 5, 1) for i in range(300)]
    store.log_batch(run_id, metrics=wide)
    assert metric_codec.unpack_points([read_records(store, run_id, "k42")]) == (
        array("q", [1]),
        array("q", [5]),
        array("d", [42.0]),
    )


def test_raw_series_equal_python_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """metrics/raw: the same bytes from numpy columns as from the Python path, in any order."""
    settings = ServerSettings(backend_store_uri=f"sqlite:///{tmp_path / 'raw.db'}")
    rng = random.Random(5)
    points = _histories(rng)["shuffled"][:2000]
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        created = client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": "0"})
        run_id = created.json()["run"]["info"]["run_id"]
        metrics = [
            {
                "key": "m",
                "value": v if math.isfinite(v) else _json_number(v),
                "timestamp": t,
                "step": s,
            }
            for s, t, v in points
        ]
        for start in range(0, len(metrics), 500):
            logged = client.post(
                "/api/2.0/mlflow/runs/log-batch",
                json={"run_id": run_id, "metrics": metrics[start : start + 500]},
            )
            assert logged.status_code == 200, logged.text
        url = "/ajax-api/2.0/tracklet/metrics/raw"
        answers = [
            client.get(url, params={"run_id": run_id, "key": "m", "x": x}).content
            for x in series.X_KINDS
        ]
        _python_path(monkeypatch)
        for x, answer in zip(series.X_KINDS, answers, strict=True):
            assert answer == client.get(url, params={"run_id": run_id, "key": "m", "x": x}).content
        n = struct.unpack_from("<Q", answers[0])[0]
        assert 1900 < n <= len(points)  # the duplicates among them dropped
        assert len(answers[0]) == 8 + 16 * n


def _json_number(value: float) -> str:
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
