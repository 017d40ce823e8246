"""Run packs: an ended run is read from one row, and never from a stale one.

Every test compares what search and get_run return with the run's parts, read with the pack
deleted by hand, or with the values written.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from tests.store.sql.lock_waits import waits_for_commit

from tracklet.entities import Metric, Param, Run, RunTag, ViewType
from tracklet.entities.metric import LatestMetrics
from tracklet.store.run_columns import RunColumns
from tracklet.store.sql import metric_batches, migrations
from tracklet.store.sql.engine import normalize_db_uri
from tracklet.store.sql.run_pack_codec import decode, encode
from tracklet.store.sql.schema import runs
from tracklet.store.sql.store import SqlStore

T0 = 1_700_000_000_000


def _packs(store: SqlStore) -> dict[str, str]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT run_uuid, pack FROM runs WHERE pack IS NOT NULL")
        return dict(rows.fetchall())


def _drop_packs(store: SqlStore) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE runs SET pack = NULL")


def _search(store: SqlStore, experiment_id: str, page_size: int = 1000) -> list[Run]:
    found: list[Run] = []
    token = None
    while True:
        page = store.search_runs([experiment_id], "", ViewType.ALL, page_size, None, token)
        found += page
        token = page.token
        if not token:
            return found


def _ended_run(store: SqlStore, experiment_id: str, i: int = 0, *, end: bool = True) -> str:
    run_id = store.create_run(
        experiment_id, "u", T0 + i, [RunTag("team", f"t{i % 3}")], None
    ).info.run_id
    store.log_batch(
        run_id,
        metrics=[
            Metric("acc", 0.25 + i, T0 + 5, 0),
            Metric("acc", 0.5 + i, T0 + 6, 3),  # the latest: highest step
            Metric("loss", math.nan, T0 + 7, 1),
            Metric("up", math.inf, T0 + 8, 2),
            Metric("down", -math.inf, T0 + 9, 2),
        ],
        params=[Param("lr", "0.01"), Param("é ü", 'ünïcode "quoted"')],
        tags=[RunTag("empty", "")],
    )
    if end:
        store.update_run_info(run_id, "FINISHED", T0 + 100, None)
    return run_id


def test_ending_a_run_packs_what_its_parts_hold(store: SqlStore) -> None:
    experiment_id = store.create_experiment("packs")
    run_id = _ended_run(store, experiment_id)
    assert set(_packs(store)) == {run_id}

    (packed,) = _search(store, experiment_id)
    assert isinstance(packed.data.metric_objs, LatestMetrics)
    assert packed.data.params == {"lr": "0.01", "é ü": 'ünïcode "quoted"'}
    assert packed.data.tags["team"] == "t0"
    assert packed.data.tags["empty"] == ""
    metrics = packed.data.metrics
    assert metrics["acc"] == 0.5
    assert math.isnan(metrics["loss"])
    assert metrics["up"] == math.inf
    assert metrics["down"] == -math.inf
    by_key = {m.key: (m.timestamp, m.step) for m in packed.data.metric_objs}
    assert by_key == {
        "acc": (T0 + 6, 3),
        "down": (T0 + 9, 2),
        "loss": (T0 + 7, 1),
        "up": (T0 + 8, 2),
    }
    assert store.get_run(run_id) == packed

    _drop_packs(store)
    (from_parts,) = _search(store, experiment_id)
    assert not isinstance(from_parts.data.metric_objs, LatestMetrics)
    assert from_parts == packed


def _log_newer_metric(store: SqlStore, run_id: str) -> None:
    store.log_metric(run_id, Metric("acc", 9.0, T0 + 50, 10))


def _log_batch(store: SqlStore, run_id: str) -> None:
    store.log_batch(run_id, metrics=[Metric("new", 1.0, T0, 0)], params=[], tags=[])


WRITES: dict[str, Callable[[SqlStore, str], None]] = {
    "log_metric": _log_newer_metric,
    "log_batch": _log_batch,
    "log_param": lambda store, run_id: store.log_param(run_id, Param("new", "1")),
    "set_tag": lambda store, run_id: store.set_tag(run_id, RunTag("team", "other")),
    "delete_tag": lambda store, run_id: store.delete_tag(run_id, "empty"),
    "rename": lambda store, run_id: store.update_run_info(run_id, None, None, "renamed"),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_after_the_end_drops_the_pack(store: SqlStore, write: str) -> None:
    experiment_id = store.create_experiment("packs")
    run_id = _ended_run(store, experiment_id)
    other = _ended_run(store, experiment_id, 1)
    WRITES[write](store, run_id)
    assert set(_packs(store)) == {other}  # only the written run lost its pack
    after = store.get_run(run_id)  # from its parts: it has no pack
    assert after == _from_parts(store, run_id)
    if write == "log_metric":
        assert after.data.metrics["acc"] == 9.0
    # Ending it again packs the new state.
    store.update_run_info(run_id, "FINISHED", T0 + 200, None)
    assert run_id in _packs(store)
    assert store.get_run(run_id).data == after.data


def _from_parts(store: SqlStore, run_id: str) -> Run:
    """The run as its part rows give it (its pack set aside, then put back)."""
    this_run = runs.update().where(runs.c.run_uuid == run_id)
    with store.engine.begin() as conn:
        pack = conn.execute(sa.select(runs.c.pack).where(runs.c.run_uuid == run_id)).scalar()
        conn.execute(this_run.values(pack=None))
    run = store.get_run(run_id)
    with store.engine.begin() as conn:
        conn.execute(this_run.values(pack=pack))
    return run


def test_a_search_repacks_runs_changed_after_they_ended(store: SqlStore) -> None:
    experiment_id = store.create_experiment("packs")
    run_id = _ended_run(store, experiment_id)
    store.set_tag(run_id, RunTag("reviewed", "yes"))
    assert _packs(store) == {}
    (found,) = _search(store, experiment_id)  # read from its parts; handed to the repacker
    assert store._repacker.flush()
    assert decode(_packs(store)[run_id])[1]["reviewed"] == "yes"
    (again,) = _search(store, experiment_id)  # now read from the new pack
    assert isinstance(again.data.metric_objs, LatestMetrics)
    assert again == found
    # A run that never ended (a killed job) is packed by a search too; its next write clears
    # the pack, and the run reads fresh.
    running = store.create_run(experiment_id, "u", T0, [], "live").info.run_id
    store.log_metric(running, Metric("acc", 0.5, T0, 0))
    _search(store, experiment_id)
    assert store._repacker.flush()
    assert decode(_packs(store)[running])[1]["mlflow.runName"] == "live"
    packed = store.get_run(running)
    assert isinstance(packed.data.metric_objs, LatestMetrics)
    assert packed.info.status == "RUNNING"
    assert packed.data.metrics == {"acc": 0.5}
    store.log_metric(running, Metric("acc", 0.75, T0 + 1, 1))
    assert running not in _packs(store)
    assert store.get_run(running).data.metrics == {"acc": 0.75}


def _wide_batch(store: SqlStore, run_id: str) -> None:
    # Wide enough to be deferred as one metric_batches row, folded at the next read.
    keys = [f"k{i:02d}" for i in range(metric_batches.WIDE_KEYS)]
    assert metric_batches.is_wide(len(keys), len(keys))
    store.log_batch(run_id, metrics=[Metric(k, 2.0, T0 + 60, 0) for k in keys], params=[], tags=[])


RUNNING_WRITES = {**WRITES, "wide_batch": _wide_batch}


@pytest.mark.parametrize("write", list(RUNNING_WRITES))
def test_every_write_clears_the_pack_of_a_running_run(store: SqlStore, write: str) -> None:
    """A run that never ended is packed by the search that reads it; every kind of later write
    (the deferred wide batch included) clears that pack, and reads see the write."""
    experiment_id = store.create_experiment("packs")
    run_id = _ended_run(store, experiment_id, end=False)
    other = _ended_run(store, experiment_id, 1)
    assert set(_packs(store)) == {other}
    _search(store, experiment_id)
    assert store.wait_for_packing()
    assert set(_packs(store)) == {run_id, other}
    packed = store.get_run(run_id)
    assert packed.info.status == "RUNNING"
    assert isinstance(packed.data.metric_objs, LatestMetrics)

    RUNNING_WRITES[write](store, run_id)
    assert set(_packs(store)) == {other}  # only the written run lost its pack
    (found,) = (run for run in _search(store, experiment_id) if run.info.run_id == run_id)
    assert not isinstance(found.data.metric_objs, LatestMetrics)  # read from its parts
    assert found.data != packed.data
    if write == "wide_batch":
        assert found.data.metrics["k00"] == 2.0
        assert len(store.get_metric_history(run_id, "k15")) == 1
    # The search handed it over again: packed with the write in it.
    assert store.wait_for_packing()
    assert run_id in _packs(store)
    assert found == store.get_run(run_id) == _from_parts(store, run_id)


def test_an_older_point_keeps_the_pack(store: SqlStore) -> None:
    """A point behind the latest changes the history, not what the pack holds."""
    experiment_id = store.create_experiment("packs")
    run_id = _ended_run(store, experiment_id)
    pack = _packs(store)[run_id]
    store.log_metric(run_id, Metric("acc", 7.0, T0 + 1, 1))
    # SQLite's row triggers compare the old and new latest point; PostgreSQL's statement
    # triggers drop the pack on any update of the row (never stale, only less often packed).
    expected = {run_id: pack} if store.engine.dialect.name == "sqlite" else {}
    assert _packs(store) == expected
    assert store.get_run(run_id).data.metrics["acc"] == 0.5
    history = store.get_metric_history(run_id, "acc")
    assert sorted((m.step, m.value) for m in history) == [(0, 0.25), (1, 7.0), (3, 0.5)]


def test_pages_mix_packed_and_unpacked_runs(store: SqlStore) -> None:
    experiment_id = store.create_experiment("packs")
    ended = [_ended_run(store, experiment_id, i) for i in range(12)]
    running = store.create_run(experiment_id, "u", T0 + 50, [], "still-running").info.run_id
    store.log_metric(running, Metric("acc", 3.0, T0, 0))
    for run_id in ended[::4]:  # changed after they ended
        store.set_tag(run_id, RunTag("late", "yes"))
    assert len(_packs(store)) == 9

    pages = [_search(store, experiment_id, page_size) for page_size in (1, 5, 1000)]
    columns = store.search_runs_columns([experiment_id], "", ViewType.ALL, 1000, None, None)
    _drop_packs(store)
    from_parts = _search(store, experiment_id)
    assert len(from_parts) == 13
    assert all(page == from_parts for page in pages)
    # Compared as text: NaN != NaN, but both print "nan" (and the text keeps the key order).
    assert repr(columns) == repr(RunColumns.from_runs(from_parts))
    assert [r.data.tags.get("late") for r in from_parts].count("yes") == 3


def test_codec_round_trips_non_finite_values_and_text() -> None:
    rows = [("a", 1.5, 1, 2), ("b", None, 3, 4), ("c", math.inf, 5, 6), ("d", -math.inf, 7, -8)]
    params, tags, values, points = decode(encode({"p": 'x\n"y"\u2028'}, {"t": ""}, rows))
    assert params == {"p": 'x\n"y"\u2028'}
    assert tags == {"t": ""}
    assert values["a"] == 1.5
    assert values["b"] is math.nan
    assert values["c"] == math.inf
    assert values["d"] == -math.inf
    assert points == "1,2,3,4,5,6,7,-8"
    assert decode(encode({}, {}, [])) == ({}, {}, {}, "")
    assert LatestMetrics((), (), "") == ()
    # Floats come back bit for bit.
    (value,) = decode(encode({}, {}, [("x", 0.1 + 0.2, 0, 0)]))[2].values()
    assert value == 0.1 + 0.2


def test_latest_metrics_builds_points_on_access() -> None:
    latest = LatestMetrics(("a", "b"), (1.0, 2.0), "10,1,20,-2")
    expected = (Metric("a", 1.0, 10, 1), Metric("b", 2.0, 20, -2))
    assert latest._built is None
    assert len(latest) == 2
    assert latest == expected
    assert latest == list(expected)
    assert expected == latest
    assert latest[1] == expected[1]
    assert latest[:1] == expected[:1]
    assert list(latest) == list(expected)
    assert latest != (expected[0],)
    assert repr(latest) == repr(expected)


@pytest.mark.postgres
def test_a_write_committing_during_packing_is_in_the_pack(postgres_uri: str, tmp_path: Any) -> None:
    """PostgreSQL: a tag written (not yet committed) when the run ends is in its pack.

    The write's trigger takes the run's lock shared; the packer waits for it exclusively, then
    reads the committed tag. Without the lock the packer would read the parts before the tag
    commits and, the write's trigger having found no pack to delete, keep a stale pack.
    """
    store = SqlStore(postgres_uri, default_artifact_root=str(tmp_path))
    try:
        experiment_id = store.create_experiment("race")
        run_id = store.create_run(experiment_id, "u", T0, [], "r").info.run_id
        writer = sa.create_engine(normalize_db_uri(postgres_uri))
        with writer.connect() as conn:
            conn.exec_driver_sql(
                "INSERT INTO tags (run_uuid, key, value) VALUES (%(run)s, 'late', 'v')",
                {"run": run_id},
            )  # begun, not committed
            # Ending the run waits for the writer's lock.
            waits_for_commit(conn, lambda: store.update_run_info(run_id, "FINISHED", T0 + 1, None))
        writer.dispose()
        assert decode(_packs(store)[run_id])[1]["late"] == "v"
        assert store.get_run(run_id).data.tags["late"] == "v"
    finally:
        store.close()


def test_runs_ended_before_the_packs_migration_are_read_from_parts(tmp_path: Any) -> None:
    """A database from revision 0003 keeps its runs readable: they just have no pack."""
    uri = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(uri)
    with engine.begin() as conn:
        migrations.upgrade(conn, "0003_logged_model_metric_index")
        conn.exec_driver_sql(
            "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage,"
            " creation_time, last_update_time) VALUES (0, 'Default', 'a', 'active', 0, 0)"
        )
        conn.exec_driver_sql(
            "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time,"
            " end_time, lifecycle_stage, artifact_uri)"
            " VALUES ('r1', 0, 'old', 'u', 'FINISHED', 1, 2, 'active', 'a/r1')"
        )
        conn.exec_driver_sql("INSERT INTO params VALUES ('r1', 'lr', '0.1')")
    engine.dispose()
    store = SqlStore(uri, default_artifact_root=str(tmp_path))
    try:
        assert _packs(store) == {}
        (run,) = _search(store, "0")
        assert run.info.run_id == "r1"
        assert run.data.params == {"lr": "0.1"}
        assert store._repacker.flush()  # the search handed the ended run over for packing
        assert decode(_packs(store)["r1"])[:2] == ({"lr": "0.1"}, {})
        store.set_tag("r1", RunTag("t", "v"))  # the triggers work on the migrated tables
        assert _packs(store) == {}
        store.update_run_info("r1", "FINISHED", 3, None)
        assert decode(_packs(store)["r1"])[:2] == ({"lr": "0.1"}, {"t": "v"})
    finally:
        store.close()


@pytest.mark.postgres
def test_a_statement_touching_many_runs_needs_few_locks(postgres_uri: str, tmp_path: Any) -> None:
    """PostgreSQL: the triggers lock buckets of runs, not runs; one statement over 10,000 runs
    (more than the server's whole lock table: 64 per connection) goes through."""
    store = SqlStore(postgres_uri, default_artifact_root=str(tmp_path))
    try:
        with store.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO runs (run_uuid, experiment_id, status, lifecycle_stage)"
                " SELECT 'r' || i, 0, 'FINISHED', 'active' FROM generate_series(1, 10000) AS i"
            )
            conn.exec_driver_sql("UPDATE runs SET pack = '[{},{},{},[]]'")
            conn.exec_driver_sql("INSERT INTO tags SELECT run_uuid, 'bulk', 'v' FROM runs")
            packs = conn.exec_driver_sql("SELECT count(pack) FROM runs")
            assert packs.scalar() == 0
        assert store.get_run("r1").data.tags == {"bulk": "v"}
    finally:
        store.close()


def _parts_and_packs(store: SqlStore) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each packed run's data as its pack says and as its part rows say."""
    packs = {run_id: decode(text) for run_id, text in _packs(store).items()}
    parts: dict[str, Any] = {}
    with store.engine.connect() as conn:
        for run_id in packs:
            where = {"run_id": run_id}
            params = dict(
                conn.execute(
                    sa.text("SELECT key, value FROM params WHERE run_uuid = :run_id"), where
                ).fetchall()
            )
            tags = dict(
                conn.execute(
                    sa.text("SELECT key, value FROM tags WHERE run_uuid = :run_id"), where
                ).fetchall()
            )
            metrics = dict(
                conn.execute(
                    sa.text("SELECT key, value FROM latest_metrics WHERE run_uuid = :run_id"),
                    where,
                ).fetchall()
            )
            parts[run_id] = (params, tags, metrics)
    said = {run_id: (p, t, m) for run_id, (p, t, m, _points) in packs.items()}
    return said, parts


def _nan_as_text(values: dict[str, float | None]) -> dict[str, object]:
    """NaN as one comparable value (the parts hold it as NULL, a pack as float NaN)."""
    return {k: "nan" if v is None or math.isnan(v) else v for k, v in values.items()}


def test_concurrent_writers_never_leave_a_stale_pack(store_uri: str, tmp_path: Any) -> None:
    """Stores on one database (as processes would be) log, tag, end and search the same runs at
    once: no error (on PostgreSQL a packer that locked a run's row before its pack lock
    deadlocked with writers here), and afterwards every pack says what the part rows say."""
    first = SqlStore(store_uri, default_artifact_root=str(tmp_path))
    experiment_id = first.create_experiment("busy")
    run_ids = [_ended_run(first, experiment_id, i) for i in range(6)]
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        store = SqlStore(store_uri, default_artifact_root=str(tmp_path))
        try:
            for step in range(40):
                run_id = rng.choice(run_ids)
                action = rng.randrange(4)
                if action == 0:
                    store.log_metric(run_id, Metric("acc", rng.random(), T0, 100 + step))
                elif action == 1:
                    store.set_tag(run_id, RunTag("owner", f"w{seed}-{step}"))
                elif action == 2:
                    store.update_run_info(run_id, "FINISHED", T0 + step, None)
                else:
                    store.search_runs([experiment_id], "", ViewType.ALL, 100, None, None)
            store._repacker.flush()
        except BaseException as error:
            errors.append(error)
        finally:
            store.close()

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert not errors
        said, parts = _parts_and_packs(first)
        assert said  # most runs end packed
        for run_id, (params, tags, metrics) in said.items():
            assert (params, tags) == parts[run_id][:2]
            assert _nan_as_text(metrics) == _nan_as_text(parts[run_id][2])
    finally:
        first.close()
