"""The UI-only JSON routes under /ajax-api/2.0/tracklet/ (no browser): columnar runs against
runs/search, experiment keys, M4 series that keep spikes, raw binary series, SSE."""

from __future__ import annotations

import json
import math
import random
import struct
import warnings
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tracklet.server.app import create_app
from tracklet.server.settings import ServerSettings
from tracklet.server.ui.downsample import in_range, m4

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

API = "/api/2.0/mlflow"
UI = "/ajax-api/2.0/tracklet"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = ServerSettings(backend_store_uri=f"sqlite:///{tmp_path / 'ui.db'}")
    with TestClient(create_app(settings), base_url="http://localhost") as test_client:
        yield test_client


def _run(client: TestClient, **batch: Any) -> str:
    run_id: str = client.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"][
        "info"
    ]["run_id"]
    if batch:
        response = client.post(f"{API}/runs/log-batch", json={"run_id": run_id, **batch})
        assert response.status_code == 200, response.text
    return run_id


def test_m4_keeps_first_last_min_max_per_column() -> None:
    rng = random.Random(1)
    xs = list(range(100_000))
    ys = array("d", (rng.random() for _ in xs))
    ys[22_222], ys[77_777] = -1e6, 1e6
    reduced = m4(xs, ys, 0, len(xs), 500)
    assert reduced.sampled
    assert len(reduced.indices) <= 4 * 500
    assert reduced.indices == sorted(set(reduced.indices))
    assert {0, 99_999, 22_222, 77_777} <= set(reduced.indices)
    # Every point lies inside its column's band, and the band spans the spikes.
    assert reduced.band_min is not None
    assert reduced.band_max is not None
    assert min(reduced.band_min) == -1e6
    assert max(reduced.band_max) == 1e6
    for i, low, high in zip(reduced.indices, reduced.band_min, reduced.band_max, strict=True):
        assert low <= ys[i] <= high


def test_m4_raw_when_few_points_and_range_cut() -> None:
    xs = list(range(0, 1000, 10))
    start, stop = in_range(xs, 95, 205)
    assert xs[start:stop] == list(range(100, 210, 10))
    reduced = m4(xs, array("d", [float(x) for x in xs]), start, stop, 10)
    assert not reduced.sampled
    assert reduced.indices == list(range(start, stop))


def test_search_columns_agrees_with_runs_search(client: TestClient) -> None:
    for i in range(12):
        _run(
            client,
            metrics=[{"key": "m", "value": i / 10, "timestamp": 1, "step": 0}],
            params=[{"key": "p", "value": str(i % 3)}],
            tags=[{"key": "mlflow.runName", "value": f"r{i}"}],
        )
    _run(client, metrics=[{"key": "m", "value": "Infinity", "timestamp": 1, "step": 0}])
    body = {"experiment_ids": ["0"], "filter": "metrics.m > 0.45", "order_by": ["metrics.m DESC"]}
    columns = client.post(f"{UI}/runs/search-columns", json=body).json()
    runs = client.post(f"{API}/runs/search", json=body).json()["runs"]
    assert columns["n"] == len(runs) == 8
    assert columns["columns"]["run_id"] == [r["info"]["run_id"] for r in runs]
    assert columns["columns"]["metrics.m"] == ["Infinity", 1.1, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5]
    assert columns["columns"]["run_name"][1:] == ["r11", "r10", "r9", "r8", "r7", "r6", "r5"]
    assert columns["columns"]["params.p"][1:] == ["2", "1", "0", "2", "1", "0", "2"]
    assert set(columns["columns"]) >= {"status", "start_time", "end_time", "parent_run_id"}


def test_windows_slice_one_snapshot_and_keep_non_finite_values(client: TestClient) -> None:
    ids = [
        _run(client, metrics=[{"key": "m", "value": v, "timestamp": 1, "step": 0}])
        for v in (1.0, "NaN", "Infinity", "-Infinity", 2.0)
    ]
    _run(client, params=[{"key": "p", "value": "x"}])  # no "m": a missing cell, not NaN
    body: dict[str, Any] = {"experiment_ids": ["0"], "order_by": ["attributes.start_time ASC"]}
    whole = client.post(f"{UI}/runs/search-columns", json=body).json()
    assert whole["columns"]["metrics.m"] == [1.0, "NaN", "Infinity", "-Infinity", 2.0, None]
    assert whole["columns"]["run_id"][:5] == ids
    first = client.post(
        f"{UI}/runs/search-columns", json={**body, "window": {"offset": 4, "limit": 10}}
    ).json()
    assert (first["total"], first["offset"], first["n"]) == (6, 4, 2)
    assert first["columns"]["run_id"] == whole["columns"]["run_id"][4:]
    assert first["columns"]["metrics.m"] == [2.0, None]
    _run(client)  # a new run: the snapshot's windows still come from the same result
    again = {**body, "window": {"offset": 1, "limit": 3}, "snapshot": first["snapshot"]}
    second = client.post(f"{UI}/runs/search-columns", json=again).json()
    assert (second["total"], second["snapshot"]) == (6, first["snapshot"])
    assert second["columns"]["metrics.m"] == ["NaN", "Infinity", "-Infinity"]
    assert "params.p" not in second["columns"]  # no value in this window
    # A snapshot id names its query: with another filter it is a new query, run afresh.
    other = {**again, "filter": "metrics.m > 1"}
    third = client.post(f"{UI}/runs/search-columns", json=other).json()
    assert third["snapshot"] != first["snapshot"]
    assert third["total"] == 2
    bad = client.post(f"{UI}/runs/search-columns", json={**body, "window": {"offset": -1}})
    assert bad.status_code == 400
    assert "window.offset" in bad.json()["message"]


def test_search_columns_errors_are_400_with_the_parser_message(client: TestClient) -> None:
    response = client.post(
        f"{UI}/runs/search-columns", json={"experiment_ids": ["0"], "filter": "metrics.m >> 1"}
    )
    assert response.status_code == 400
    reference = client.post(
        f"{API}/runs/search", json={"experiment_ids": ["0"], "filter": "metrics.m >> 1"}
    )
    assert response.json() == reference.json()
    bad = client.post(f"{UI}/runs/search-columns", json={"experiment_ids": ["0"], "max_results": 0})
    assert bad.status_code == 400
    assert "max_results" in bad.json()["message"]


def test_experiment_keys(client: TestClient) -> None:
    _run(client, metrics=[{"key": "a", "value": 1, "timestamp": 1, "step": 0}])
    _run(client, params=[{"key": "p", "value": "x"}], tags=[{"key": "t", "value": "y"}])
    keys = client.get(f"{UI}/experiments/keys", params={"experiment_ids": "0"}).json()
    assert keys["metrics"] == [{"key": "a", "runs": 1}]
    assert keys["params"] == [{"key": "p", "runs": 1}]
    assert {"key": "t", "runs": 1} in keys["tags"]


def test_series_m4_batch_zoom_and_raw(client: TestClient) -> None:
    n = 20_000
    values = [math.sin(i / 500) for i in range(n)]
    values[2222], values[17_777] = -1e6, 1e6
    run_id = _run(client)
    for start in range(0, n, 1000):
        metrics = [
            {"key": "loss", "value": values[i], "timestamp": 1000 + i, "step": i}
            for i in range(start, start + 1000)
        ]
        client.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics})
    other = _run(client, metrics=[{"key": "acc", "value": 0.5, "timestamp": 5, "step": 3}])
    body = {
        "series": [{"run_id": run_id, "key": "loss"}, {"run_id": other, "key": "acc"}],
        "width": 500,
    }
    full, small = client.post(f"{UI}/metrics/series", json=body).json()["series"]
    assert full["sampled"]
    assert full["n_total"] == n
    assert len(full["x"]) <= 2000
    assert max(full["y"]) == 1e6
    assert min(full["y"]) == -1e6
    assert full["band"] is not None
    assert full["last_step"] == n - 1
    assert small == {
        "run_id": other, "key": "acc", "n_total": 1, "n_in_range": 1, "sampled": False,
        "x": [3], "y": [0.5], "band": None, "last_step": 3, "last_timestamp": 5,
    }  # fmt: skip
    zoom = {**body, "series": body["series"][:1], "x_min": 17_700, "x_max": 17_900}
    [zoomed] = client.post(f"{UI}/metrics/series", json=zoom).json()["series"]
    assert not zoomed["sampled"]
    assert zoomed["band"] is None
    assert zoomed["x"] == list(range(17_700, 17_901))
    assert zoomed["y"][77] == 1e6
    wall = client.post(
        f"{UI}/metrics/series", json={**zoom, "x": "relative", "x_min": 0, "x_max": 10}
    )
    assert wall.json()["series"][0]["x"] == list(range(11))

    raw = client.get(f"{UI}/metrics/raw", params={"run_id": run_id, "key": "loss"})
    assert raw.headers["content-type"] == "application/octet-stream"
    (count,) = struct.unpack_from("<Q", raw.content)
    assert count == n
    assert len(raw.content) == 8 + 16 * n
    xs = struct.unpack_from(f"<{n}q", raw.content, 8)
    ys = struct.unpack_from(f"<{n}d", raw.content, 8 + 8 * n)
    assert list(xs) == list(range(n))
    assert list(ys) == values


def test_series_of_a_run_model_or_system_keys(client: TestClient) -> None:
    """A run's own keys in one request (what index.html's bootstrap asks for): the model keys
    (not system/...) or the system keys, sorted, each as the named form answers it."""
    keys = ["b", "a/x", "system/cpu", "c", "system/mem"]
    metrics = [
        {"key": k, "value": float(i * 10 + s), "timestamp": 100 + s, "step": s}
        for i, k in enumerate(keys)
        for s in range(3)
    ]
    run_id = _run(client, metrics=metrics)
    url = f"{UI}/metrics/series"
    model = client.post(url, json={"run_id": run_id, "keys": "model", "width": 300}).json()
    assert [s["key"] for s in model["series"]] == ["a/x", "b", "c"]
    named = {"series": [{"run_id": run_id, "key": k} for k in ("a/x", "b", "c")], "width": 300}
    assert model == client.post(url, json=named).json()
    system = client.post(url, json={"run_id": run_id, "keys": "system"}).json()["series"]
    assert [(s["key"], s["y"]) for s in system] == [
        ("system/cpu", [20.0, 21.0, 22.0]),
        ("system/mem", [40.0, 41.0, 42.0]),
    ]
    for body in ({"run_id": run_id, "keys": "all"}, {"run_id": "", "keys": "model"}):
        response = client.post(url, json=body)
        assert response.status_code == 400, body
        assert "'keys'" in response.json()["message"]
    missing = client.post(url, json={"run_id": "0" * 32, "keys": "model"})
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def _decode_binary(data: bytes) -> list[dict[str, Any]]:
    """series_binary's layout, read back: the header's series with their float64 columns."""
    (size,) = struct.unpack_from("<I", data)
    header = json.loads(data[4 : 4 + size])
    at = 4 + size + (-(4 + size) % 8)
    out = []
    for meta in header["series"]:
        n = meta.pop("n")
        names = ["x", "y", "min", "max"] if meta["band"] else ["x", "y"]
        columns = {}
        if "x_run" in meta:
            start, stride = meta.pop("x_run")
            columns["x"] = [float(start + i * stride) for i in range(n)]
            names.remove("x")
        for name in names:
            columns[name] = list(struct.unpack_from(f"<{n}d", data, at))
            at += 8 * n
        out.append({**meta, **columns})
    assert at == len(data)
    return out


def header_of(data: bytes) -> dict[str, Any]:
    (size,) = struct.unpack_from("<I", data)
    header: dict[str, Any] = json.loads(data[4 : 4 + size])
    return header


def _same(a: float | str, b: float) -> bool:
    """A JSON value (MLflow's strings for NaN and the infinities) equals a float64."""
    if a == "NaN":
        return math.isnan(b)
    return {"Infinity": math.inf, "-Infinity": -math.inf}.get(a, a) == b  # type: ignore[arg-type]


def test_series_binary_holds_the_json_answers_points(client: TestClient) -> None:
    """format=binary: the same series as JSON, points as float64 columns (NaN and infinities
    as values), the band's min/max columns when reduced; no gzip (doubles barely compress)."""
    n = 5000
    values = [math.cos(i / 100) for i in range(n)]
    values[10], values[20], values[30] = math.nan, math.inf, -math.inf
    run_id = _run(client)
    wire = {10: "NaN", 20: "Infinity", 30: "-Infinity"}  # JSON has no literal for them
    metrics = [
        {"key": "v", "value": wire.get(i, v), "timestamp": 7 + i, "step": i}
        for i, v in enumerate(values)
    ]
    for start in range(0, n, 1000):
        body = {"run_id": run_id, "metrics": metrics[start : start + 1000]}
        assert client.post(f"{API}/runs/log-batch", json=body).status_code == 200
    points = [
        {"key": "s", "value": 2.5, "timestamp": 1, "step": 4},
        {"key": "s", "value": "NaN", "timestamp": 2, "step": 5},
    ]
    short = _run(client, metrics=points)
    url = f"{UI}/metrics/series"
    body = {"series": [{"run_id": run_id, "key": "v"}, {"run_id": short, "key": "s"}], "width": 100}
    as_json = client.post(url, json=body).json()["series"]
    answer = client.post(url, json={**body, "format": "binary"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/octet-stream"
    assert "content-encoding" not in answer.headers
    as_binary = _decode_binary(answer.content)
    assert [s["band"] for s in as_binary] == [True, False]
    for j, b in zip(as_json, as_binary, strict=True):
        for name in ("run_id", "key", "n_total", "n_in_range", "sampled", "last_step"):
            assert j[name] == b[name]
        assert j["last_timestamp"] == b["last_timestamp"]
        assert [float(v) for v in j["x"]] == b["x"]
        assert all(_same(u, v) for u, v in zip(j["y"], b["y"], strict=True))
        if j["band"]:
            assert all(_same(u, v) for u, v in zip(j["band"]["min"], b["min"], strict=True))
            assert all(_same(u, v) for u, v in zip(j["band"]["max"], b["max"], strict=True))
    full, few = as_binary
    assert full["sampled"]
    assert len(full["x"]) <= 400
    assert full["y"][full["x"].index(20.0)] == math.inf  # the first column's max and min
    assert full["y"][full["x"].index(30.0)] == -math.inf
    assert full["max"][0] == math.inf
    assert few["x"] == [4.0, 5.0]
    assert "x_run" in header_of(answer.content)["series"][1]  # steps 4, 5: a run, not a column
    assert "x_run" not in header_of(answer.content)["series"][0]  # M4's picks
    assert few["y"][0] == 2.5
    assert math.isnan(few["y"][1])
    assert client.post(url, json={**body, "format": "xml"}).status_code == 400


def test_series_rejects_bad_requests(client: TestClient) -> None:
    url = f"{UI}/metrics/series"
    for body, name in [
        ({"series": []}, "series"),
        ({"series": [{"run_id": "a"}]}, "series"),
        ({"series": [{"run_id": "a", "key": "k"}], "x": "time"}, "'x'"),
        ({"series": [{"run_id": "a", "key": "k"}], "width": 10_000}, "width"),
    ]:
        response = client.post(url, json=body)
        assert response.status_code == 400, body
        assert name in response.json()["message"]


def test_event_feeds_are_shared_per_watched_set_and_follow_the_store_cursor(
    tmp_path: Any,
) -> None:
    import asyncio

    from tracklet.entities import Metric
    from tracklet.server.ui.events import Hub, Watch
    from tracklet.store.sql.store import SqlStore

    store = SqlStore(f"sqlite:///{tmp_path / 's.db'}")
    experiment_id = store.create_experiment("feeds")
    r1 = store.create_run(experiment_id, "u", 1, [], "r1").info.run_id
    reads: list[int] = []
    changed_runs = store.changed_runs

    def counted(*args: Any) -> Any:
        reads.append(1)
        return changed_runs(*args)

    store.changed_runs = counted  # type: ignore[method-assign]

    async def scenario() -> None:
        hub = Hub(poll_seconds=0.01)
        watch = Watch(store, experiment_ids=[experiment_id])
        a = await hub.subscribe("experiments:1", watch)
        b = await hub.subscribe("experiments:1", watch)
        assert hub.feeds == 1
        while len(reads) < 2:
            await asyncio.sleep(0.01)
        store.update_run_info(r1, "FINISHED", 5, None)
        r2 = store.create_run(experiment_id, "u", 2, [], "r2").info.run_id
        first = await asyncio.wait_for(a.get(), 30)
        assert first == await asyncio.wait_for(b.get(), 30)
        assert first.startswith(f"id: {store.change_cursor()}\nevent: runs\n")  # the store's
        assert f'{{"run_id":"{r1}","status":"FINISHED","end_time":5}}' in first
        assert r2 in first
        store.log_metric(r2, Metric("loss", 1.0, 1, 0))  # experiment feeds: status changes only
        polls, started = len(reads), asyncio.get_running_loop().time()
        await asyncio.sleep(0.1)
        elapsed = asyncio.get_running_loop().time() - started
        assert a.empty()
        assert len(reads) - polls <= elapsed / 0.01 + 1  # one read per poll for both streams
        hub.unsubscribe("experiments:1", a)
        hub.unsubscribe("experiments:1", b)
        assert hub.feeds == 0
        run_feed = await hub.subscribe("run:" + r2, Watch(store, run_id=r2))
        store.log_metric(r2, Metric("loss", 0.5, 2, 1))
        moved = await asyncio.wait_for(run_feed.get(), 30)
        assert "event: metrics\n" in moved
        assert '"key":"loss","last_step":1' in moved
        assert "event: runs" not in moved  # the run's status did not change
        hub.unsubscribe("run:" + r2, run_feed)

    try:
        asyncio.run(scenario())
    finally:
        store.close()


def test_snapshots_keep_the_newest_within_their_cell_budget(monkeypatch: Any) -> None:
    from tracklet.server.ui import windows
    from tracklet.store.run_columns import RunColumns

    def columns(n: int) -> RunColumns:
        info = {name: [None] * n for name in ("run_id", "status")}
        return RunColumns(n, info, {"m": [0.0] * n}, {}, {})

    monkeypatch.setattr(windows, "MAX_CELLS", 1000)
    snapshots = windows.Snapshots(capacity=3)
    query: windows.Query = (("1",), "", 1, ())
    old = snapshots.add(query, columns(200))  # 600 cells
    new = snapshots.add(query, columns(200))  # 1,200 in all: the older one goes
    assert snapshots.find(old.id, query) is None
    assert snapshots.find(new.id, query) is new
    assert snapshots.find(new.id, (("2",), "", 1, ())) is None  # an id names its query
    huge = snapshots.add(query, columns(5000))  # over budget alone: kept, being the newest
    assert snapshots.latest(query) is huge
