"""Wide metric batches (many keys, a point or a few each): every guarantee of the direct path.

Such a batch is written as one ``metric_batches`` row and folded before reads, by this store
or another one on the same database (another server process). On return the points are in the
history in MLflow's order, the latest values are MLflow's, searches filter and order by them,
and a pack never holds a stale value. Compared with MLflow 3.17.2 running the same batches.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from tracklet.entities import Metric, Param, RunTag, ViewType
from tracklet.exceptions import MlflowException
from tracklet.store.sql import metric_batches, metric_codec, migrations, run_packs
from tracklet.store.sql.engine import normalize_db_uri
from tracklet.store.sql.store import SqlStore

T0 = 1_700_000_000_000
KEYS = [f"layer{i:02d}/grad_norm" for i in range(40)]


def _count(store: SqlStore, sql: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql(sql).scalar() or 0)


def _value(key_index: int, step: int) -> float:
    return key_index + step / 8


def _wide(step: int, keys: list[str] = KEYS, timestamp: int | None = None) -> list[Metric]:
    ts = T0 + step if timestamp is None else timestamp
    return [Metric(key, _value(i, step), ts, step) for i, key in enumerate(keys)]


def _rows(store: SqlStore) -> list[tuple[bytes, int | None, int | None, int | None, bytes]]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT metric_keys, key_set_id, step, timestamp, data FROM metric_batches"
            " ORDER BY batch_id"
        ).all()
    return [(bytes(keys), key_set, step, ts, bytes(data)) for keys, key_set, step, ts, data in rows]


def _new_run(store: SqlStore, name: str = "wide") -> tuple[str, str]:
    experiment_id = store.create_experiment(name)
    run = store.create_run(experiment_id, "u", T0, [], name)
    return experiment_id, run.info.run_id


def test_history_latest_search_and_packs(store: SqlStore) -> None:
    experiment_id, run_id = _new_run(store)
    other = store.create_run(experiment_id, "u", T0 + 1, [], "other").info.run_id
    for step in (0, 1, 2):
        store.log_batch(run_id, metrics=_wide(step))
    store.log_batch(other, metrics=_wide(0))
    store.log_metric(run_id, Metric(KEYS[0], -1.0, T0 + 99, 1))  # direct, older step

    history = store.get_metric_history(run_id, KEYS[3])
    assert [(m.step, m.timestamp, m.value) for m in history] == [
        (s, T0 + s, _value(3, s)) for s in (0, 1, 2)
    ]
    first = store.get_metric_history(run_id, KEYS[0])
    assert [(m.step, m.value) for m in first] == [(0, 0.0), (1, 0.125), (2, 0.25), (1, -1.0)]
    run = store.get_run(run_id)
    assert run.data.metrics == {key: _value(i, 2) for i, key in enumerate(KEYS)}

    found = store.search_runs([experiment_id], f"metrics.`{KEYS[5]}` > 5.1", ViewType.ALL)
    assert [r.info.run_id for r in found] == [run_id]
    ordered = store.search_runs(
        [experiment_id], "", ViewType.ALL, order_by=[f"metrics.`{KEYS[7]}` DESC"]
    )
    assert [r.info.run_id for r in ordered] == [run_id, other]
    assert ordered[0].data.metrics[KEYS[7]] == _value(7, 2)

    # Ending packs the run with the wide batches' latest values; a later wide batch clears it.
    store.update_run_info(run_id, "FINISHED", T0 + 100, None)
    assert _count(
        store, f"SELECT count(*) FROM runs WHERE pack IS NOT NULL AND run_uuid = '{run_id}'"
    )
    (packed,) = store.search_runs([experiment_id], f"metrics.`{KEYS[1]}` > 1.2", ViewType.ALL)
    assert packed.data.metrics == run.data.metrics
    store.log_batch(run_id, metrics=_wide(3))
    assert not _count(
        store, f"SELECT count(*) FROM runs WHERE pack IS NOT NULL AND run_uuid = '{run_id}'"
    )
    (fresh,) = store.search_runs([experiment_id], f"metrics.`{KEYS[1]}` > 1.3", ViewType.ALL)
    assert fresh.data.metrics == {key: _value(i, 3) for i, key in enumerate(KEYS)}
    assert store.get_run(run_id).data.metrics == fresh.data.metrics


def test_latest_is_mlflow_order_whatever_order_batches_arrive(store: SqlStore) -> None:
    _, run_id = _new_run(store)
    store.log_batch(run_id, metrics=_wide(10))
    store.log_batch(run_id, metrics=_wide(3, timestamp=T0 + 500))  # older step, later time
    store.log_batch(run_id, metrics=_wide(10, timestamp=T0 + 9))  # same step, earlier time
    nan_tie = [Metric(key, math.nan, T0 + 10, 10) for key in KEYS]
    store.log_batch(run_id, metrics=nan_tie)  # NaN never wins a tie with a number
    latest = {m.key: (m.step, m.timestamp, m.value) for m in store.get_run(run_id).data.metric_objs}
    assert latest == {key: (10, T0 + 10, _value(i, 10)) for i, key in enumerate(KEYS)}
    history = store.get_metric_history(run_id, KEYS[4])
    assert [(m.timestamp, m.step) for m in history] == [
        (T0 + 9, 10),
        (T0 + 10, 10),
        (T0 + 10, 10),
        (T0 + 500, 3),
    ]
    assert math.isnan(history[2].value)


def test_params_tags_and_repeated_keys_in_one_batch(store: SqlStore) -> None:
    _, run_id = _new_run(store)
    # 20 keys x 3 steps in one batch, with params and tags: all or nothing, all visible.
    metrics = [m for step in range(3) for m in _wide(step, KEYS[:20])]
    store.log_batch(run_id, metrics=metrics, params=[Param("lr", "0.1")], tags=[RunTag("t", "v")])
    run = store.get_run(run_id)
    assert run.data.params == {"lr": "0.1"}
    assert run.data.tags["t"] == "v"
    assert run.data.metrics == {key: _value(i, 2) for i, key in enumerate(KEYS[:20])}
    for i, key in enumerate(KEYS[:20]):
        assert [m.value for m in store.get_metric_history(run_id, key)] == [
            _value(i, s) for s in range(3)
        ]


def test_a_bad_point_writes_nothing(store: SqlStore) -> None:
    _, run_id = _new_run(store)
    metrics = _wide(0)
    metrics[17] = Metric(KEYS[17], 1.0, -5, 0)
    with pytest.raises(MlflowException, match=r"metrics\[17\]"):
        store.log_batch(run_id, metrics=metrics)
    assert _count(store, "SELECT count(*) FROM metric_batches") == 0
    assert store.get_run(run_id).data.metrics == {}


def test_many_folds_move_tails_into_chunks(
    store_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small fold threshold: this writer folds every few batches by itself, and the tails
    # pass their flush size, moving into metric_chunks; histories stay whole and ordered.
    monkeypatch.setattr(metric_batches, "FOLD_POINTS", 3 * len(KEYS))
    store = SqlStore(store_uri, str(tmp_path / "a"))
    try:
        _, run_id = _new_run(store)
        for step in range(100):
            store.log_batch(run_id, metrics=_wide(step))
            assert _count(store, "SELECT count(*) FROM metric_batches") <= 3
        assert _count(store, "SELECT count(*) FROM metric_chunks") >= len(KEYS)
        for i in (0, 21, 39):
            history = store.get_metric_history(run_id, KEYS[i])
            assert [(m.step, m.value) for m in history] == [(s, _value(i, s)) for s in range(100)]
        assert _count(store, "SELECT count(*) FROM metric_batches") == 0
    finally:
        store.close()


def test_another_store_reads_pending_batches(store_uri: str, tmp_path: Path) -> None:
    writer = SqlStore(store_uri, str(tmp_path / "a"))
    reader = SqlStore(store_uri, str(tmp_path / "a"))
    try:
        experiment_id, run_id = _new_run(writer)
        writer.log_batch(run_id, metrics=_wide(0))
        writer.log_batch(run_id, metrics=_wide(1))
        assert _count(writer, "SELECT count(*) FROM metric_batches") == 2
        (found,) = reader.search_runs([experiment_id], f"metrics.`{KEYS[9]}` = 9.125")
        assert found.info.run_id == run_id
        assert _count(writer, "SELECT count(*) FROM metric_batches") == 0
        assert writer.get_run(run_id).data.metrics[KEYS[9]] == 9.125
    finally:
        writer.close()
        reader.close()


def test_hard_deleting_a_run_drops_its_pending_batches(sqlite_uri: str, tmp_path: Path) -> None:
    store = SqlStore(sqlite_uri, str(tmp_path / "a"))
    try:
        _, run_id = _new_run(store)
        store.log_batch(run_id, metrics=_wide(0))
        with store.engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys = ON")
            conn.execute(sa.text("DELETE FROM runs WHERE run_uuid = :r"), {"r": run_id})
        assert _count(store, "SELECT count(*) FROM metric_batches") == 0
    finally:
        store.close()


def test_same_histories_and_latest_values_as_mlflow(tmp_path: Path) -> None:
    mlflow_client = pytest.importorskip("mlflow.tracking").MlflowClient
    from mlflow.entities import Metric as MlflowMetric

    batches = [_wide(2), _wide(0), _wide(1, timestamp=T0 + 7), _wide(2, timestamp=T0 + 1)]
    batches.append([Metric(k, math.nan, T0 + 3, 2) for k in KEYS[:20]])

    theirs = mlflow_client(f"sqlite:///{tmp_path / 'mlflow.db'}")
    their_run = theirs.create_run(theirs.create_experiment("wide")).info.run_id
    for batch in batches:
        theirs.log_batch(
            their_run, metrics=[MlflowMetric(m.key, m.value, m.timestamp, m.step) for m in batch]
        )
    ours = SqlStore(f"sqlite:///{tmp_path / 'tracklet.db'}", str(tmp_path / "a"))
    try:
        _, our_run = _new_run(ours)
        for batch in batches:
            ours.log_batch(our_run, metrics=batch)

        def points(metrics: list) -> list[tuple[int, int, str]]:  # type: ignore[type-arg]
            return [(m.step, m.timestamp, repr(m.value)) for m in metrics]

        their_latest = {m.key: m for m in theirs.get_run(their_run).data._metric_objs}
        our_latest = {m.key: m for m in ours.get_run(our_run).data.metric_objs}
        assert sorted(their_latest) == sorted(our_latest) == sorted(KEYS)
        for key in KEYS:
            assert points([our_latest[key]]) == points([their_latest[key]]), key
            assert points(ours.get_metric_history(our_run, key)) == points(
                theirs.get_metric_history(their_run, key)
            ), key
    finally:
        ours.close()


def test_a_run_with_pending_batches_is_packed_only_after_they_fold(postgres_uri: str) -> None:
    # PostgreSQL: the packer leaves a run with a pending batch unpacked (folding there could
    # deadlock with another process's fold); the next search packs it with the batch's values.
    store = SqlStore(postgres_uri)
    try:
        experiment_id, run_id = _new_run(store)
        store.log_batch(run_id, metrics=_wide(0))
        with store._writer.transaction() as db:  # as the repacker does, before any read folds
            run_packs.pack_runs(db, [run_id], store._tail_sizes)
        assert _count(store, "SELECT count(*) FROM runs WHERE pack IS NOT NULL") == 0
        (found,) = store.search_runs([experiment_id], "", ViewType.ALL)
        assert found.data.metrics == {key: _value(i, 0) for i, key in enumerate(KEYS)}
        assert store.wait_for_packing()
        assert _count(store, "SELECT count(*) FROM runs WHERE pack IS NOT NULL") == 1
        (packed,) = store.search_runs([experiment_id], f"metrics.`{KEYS[2]}` = 2", ViewType.ALL)
        assert packed.data.metrics == found.data.metrics
    finally:
        store.close()


@pytest.mark.parametrize("wide", [False, True], ids=["narrow", "wide"])
def test_a_batch_for_a_deleted_or_missing_run_writes_nothing(store: SqlStore, wide: bool) -> None:
    _, run_id = _new_run(store)
    batch = _wide(0, KEYS if wide else KEYS[:3])
    store.delete_run(run_id)
    with pytest.raises(MlflowException) as error:
        store.log_batch(run_id, metrics=batch)
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as missing:
        store.log_batch("0" * 32, metrics=batch)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    for empty in (lambda: store.log_batch(run_id), lambda: store.log_metric_columns(run_id, {})):
        with pytest.raises(MlflowException, match="must be in the 'active' state"):
            empty()  # nothing to write: still refused, as MLflow does
    store.restore_run(run_id)
    assert store.get_run(run_id).data.metrics == {}
    assert _count(store, "SELECT count(*) FROM metric_chunks") == 0
    assert _count(store, "SELECT count(*) FROM metric_batches") == 0


def test_writers_in_two_stores_lose_no_point(store_uri: str, tmp_path: Path) -> None:
    # Two stores (two server processes) and two threads each append to the same keys' tails
    # (batches, and single points), which fill and move into chunks while the others append:
    # every point is kept once.
    stores = [SqlStore(store_uri, str(tmp_path / "a")) for _ in range(2)]
    try:
        _, run_id = _new_run(stores[0])
        keys = KEYS[:4]
        steps_per_writer = 60

        def write(writer: int) -> None:
            store = stores[writer % 2]
            for i in range(steps_per_writer):
                step = writer * steps_per_writer + i
                if writer < 2:
                    store.log_batch(run_id, metrics=_wide(step, keys))
                else:  # single points, the synchronous log_metric path
                    for metric in _wide(step, keys):
                        store.log_metric(run_id, metric)

        threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        total = 4 * steps_per_writer
        for i, key in enumerate(keys):
            history = stores[1].get_metric_history(run_id, key)
            assert sorted(m.step for m in history) == list(range(total)), key
            assert {m.step: m.value for m in history} == {s: _value(i, s) for s in range(total)}
        assert stores[0].get_run(run_id).data.metrics == {
            key: _value(i, total - 1) for i, key in enumerate(keys)
        }
        assert _count(stores[0], "SELECT count(*) FROM metric_chunks") > 0  # tails moved
    finally:
        for store in stores:
            store.close()


def test_rows_are_compact_and_fold_with_rows_of_every_form(store: SqlStore) -> None:
    # A step's points share a step and timestamp: its row holds their values alone. The first
    # two rows of a key list hold the keys; written twice, the list becomes a key set of its
    # own, stored once, and the rows after name it. A batch of several steps keeps its records.
    _, run_id = _new_run(store)
    for step in range(4):
        store.log_batch(run_id, metrics=_wide(step))
    for step in (4, 6, 8):  # two steps a batch
        store.log_batch(run_id, metrics=_wide(step, KEYS[:20]) + _wide(step + 1, KEYS[:20]))
    rows = _rows(store)
    joined = "\0".join(KEYS).encode()
    key_set = metric_batches.key_set_digest(joined)
    values = [metric_codec.pack_values([_value(i, s) for i in range(40)]) for s in range(4)]
    mark = metric_batches.COMPACT_MARK
    assert rows[:4] == [
        (mark + joined, None, 0, T0, values[0]),
        (mark + joined, None, 1, T0 + 1, values[1]),
        (mark, key_set, 2, T0 + 2, values[2]),
        (mark, key_set, 3, T0 + 3, values[3]),
    ]
    assert len(values[0]) == 8 * len(KEYS)
    two_steps = "\0".join(KEYS[:20] * 2).encode()
    assert [row[:4] for row in rows[4:]] == [
        (two_steps, None, None, None),  # the form of every release
        (two_steps, None, None, None),
        (mark, metric_batches.key_set_digest(two_steps), None, None),
    ]
    # A release before 0011 (a server not yet restarted) reads keys as UTF-8 before anything
    # else: on a row of the compact form its fold fails and rolls back, losing nothing.
    for metric_keys, key_set_id, step, _ts, _data in rows:
        if key_set_id is not None or step is not None:
            with pytest.raises(UnicodeDecodeError):
                metric_keys.decode()
    assert rows[6][4] == metric_codec.pack_points(
        [8] * 20 + [9] * 20,
        [T0 + 8] * 20 + [T0 + 9] * 20,
        [_value(i, s) for s in (8, 9) for i in range(20)],
    )
    assert _count(store, "SELECT count(*) FROM metric_key_sets") == 2

    for i in (0, 19, 20, 39):
        steps = range(10) if i < 20 else range(4)
        history = store.get_metric_history(run_id, KEYS[i])
        assert [(m.step, m.timestamp, m.value) for m in history] == [
            (s, T0 + s, _value(i, s)) for s in steps
        ]
    assert store.get_run(run_id).data.metrics == {
        key: _value(i, 9 if i < 20 else 3) for i, key in enumerate(KEYS)
    }
    assert _count(store, "SELECT count(*) FROM metric_batches") == 0
    # The key sets stay: the next batch of a list names it at once.
    store.log_batch(run_id, metrics=_wide(10))
    assert _rows(store)[0][:2] == (mark, key_set)
    assert store.get_run(run_id).data.metrics[KEYS[39]] == _value(39, 10)


def test_a_refused_batch_registers_no_key_list(store: SqlStore) -> None:
    # A batch for a run that is not active writes nothing, its key list included.
    _, run_id = _new_run(store)
    store.log_batch(run_id, metrics=_wide(0))
    store.delete_run(run_id)
    for step in (1, 2):
        with pytest.raises(MlflowException):
            store.log_batch(run_id, metrics=_wide(step))
    assert _count(store, "SELECT count(*) FROM metric_key_sets") == 0
    store.restore_run(run_id)
    store.log_batch(run_id, metrics=_wide(3))  # the second row written: now registered
    assert _count(store, "SELECT count(*) FROM metric_key_sets") == 1
    assert [m.step for m in store.get_metric_history(run_id, KEYS[0])] == [0, 3]


def test_a_key_repeated_in_a_step_keeps_both_points(store: SqlStore) -> None:
    # Same step and timestamp for every point, one key twice: a compact row, folded point by
    # point; both values are in the history and MLflow's order picks the larger as latest.
    _, run_id = _new_run(store)
    for step in (0, 1):
        batch = _wide(step, KEYS[:20])
        batch.append(Metric(KEYS[3], 100.0 + step, T0 + step, step))
        store.log_batch(run_id, metrics=batch)
    assert [row[2] for row in _rows(store)] == [0, 1]
    history = store.get_metric_history(run_id, KEYS[3])
    assert sorted((m.step, m.value) for m in history) == [
        (0, 3.0),
        (0, 100.0),
        (1, 3.125),
        (1, 101.0),
    ]
    assert store.get_run(run_id).data.metrics[KEYS[3]] == 101.0
    assert store.get_run(run_id).data.metrics[KEYS[4]] == 4.125


def test_a_digest_held_by_another_key_list_keeps_the_keys_inline(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every list gets the same digest: the first registered holds it, the other stays inline.
    monkeypatch.setattr(metric_batches, "key_set_digest", lambda _blob: 42)
    _, run_id = _new_run(store)
    other = [f"other{i:02d}" for i in range(20)]
    for step in range(4):
        store.log_batch(run_id, metrics=_wide(step, KEYS[:20]))
        store.log_batch(run_id, metrics=_wide(step, other))
    mark = metric_batches.COMPACT_MARK
    ours, theirs = mark + "\0".join(KEYS[:20]).encode(), mark + "\0".join(other).encode()
    assert [row[:2] for row in _rows(store)] == [
        (ours, None),
        (theirs, None),
        (ours, None),
        (theirs, None),
        (mark, 42),
        (theirs, None),
        (mark, 42),
        (theirs, None),
    ]
    metrics = store.get_run(run_id).data.metrics
    assert metrics == {
        **{key: _value(i, 3) for i, key in enumerate(KEYS[:20])},
        **{key: _value(i, 3) for i, key in enumerate(other)},
    }
    assert [m.value for m in store.get_metric_history(run_id, other[5])] == [
        _value(5, s) for s in range(4)
    ]


def test_a_store_folds_rows_naming_key_sets_it_never_wrote(store_uri: str, tmp_path: Path) -> None:
    # Another process (a store with nothing remembered) folds compact rows: the key sets are
    # read from the database.
    writer = SqlStore(store_uri, str(tmp_path / "a"))
    try:
        experiment_id, run_id = _new_run(writer)
        for step in range(4):
            writer.log_batch(run_id, metrics=_wide(step))
        assert [row[1] is not None for row in _rows(writer)] == [False, False, True, True]
        reader = SqlStore(store_uri, str(tmp_path / "a"))
        try:
            (found,) = reader.search_runs([experiment_id], f"metrics.`{KEYS[9]}` = 9.375")
            assert found.data.metrics == {key: _value(i, 3) for i, key in enumerate(KEYS)}
            assert [m.value for m in reader.get_metric_history(run_id, KEYS[30])] == [
                _value(30, s) for s in range(4)
            ]
        finally:
            reader.close()
        assert _count(writer, "SELECT count(*) FROM metric_batches") == 0
    finally:
        writer.close()


def test_rows_pending_from_before_the_compact_form_still_fold(
    store_uri: str, tmp_path: Path
) -> None:
    # A database at 0010 holding pending rows of the old form (keys inline, records), upgraded:
    # they fold, alone and together with rows of the new form for the same keys.
    engine = sa.create_engine(normalize_db_uri(store_uri))
    keys = KEYS[:20]
    try:
        with engine.begin() as conn:
            migrations.upgrade(conn, "0010_blob_storage")
            conn.exec_driver_sql(
                "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage,"
                " creation_time, last_update_time) VALUES (1, 'e', 'x', 'active', 1, 1)"
            )
            for run_id in ("r1", "r2"):
                conn.execute(
                    sa.text(
                        "INSERT INTO runs (run_uuid, experiment_id, status, start_time,"
                        " lifecycle_stage) VALUES (:r, 1, 'RUNNING', 1, 'active')"
                    ),
                    {"r": run_id},
                )
            old_rows = [  # r1: a step at a time; r2: two steps in one row
                ("r1", keys, [_wide(0, keys)]),
                ("r1", keys, [_wide(1, keys)]),
                ("r2", keys * 2, [_wide(0, keys), _wide(1, keys)]),
            ]
            for run_id, row_keys, steps in old_rows:
                points = [m for step in steps for m in step]
                conn.execute(
                    sa.text(
                        "INSERT INTO metric_batches (run_uuid, metric_keys, data)"
                        " VALUES (:r, :k, :d)"
                    ),
                    {
                        "r": run_id,
                        "k": "\0".join(row_keys).encode(),
                        "d": metric_codec.pack_points(
                            [m.step for m in points],
                            [m.timestamp for m in points],
                            [m.value for m in points],
                        ),
                    },
                )
    finally:
        engine.dispose()
    store = SqlStore(store_uri, str(tmp_path / "a"))  # migrates to the head
    try:
        for step in (2, 3, 4):  # new rows beside the old ones: inline, then a key set
            store.log_batch("r1", metrics=_wide(step, keys))
        assert _count(store, "SELECT count(*) FROM metric_batches") == 6
        assert _count(store, "SELECT count(*) FROM metric_batches WHERE key_set_id IS NOT NULL")
        assert store.get_run("r1").data.metrics == {key: _value(i, 4) for i, key in enumerate(keys)}
        assert store.get_run("r2").data.metrics == {key: _value(i, 1) for i, key in enumerate(keys)}
        for i in (0, 19):
            assert [(m.step, m.value) for m in store.get_metric_history("r1", keys[i])] == [
                (s, _value(i, s)) for s in range(5)
            ]
            assert [(m.step, m.value) for m in store.get_metric_history("r2", keys[i])] == [
                (s, _value(i, s)) for s in range(2)
            ]
        assert _count(store, "SELECT count(*) FROM metric_batches") == 0
    finally:
        store.close()


def test_downgrade_refuses_compact_rows_until_folded(sqlite_uri: str, tmp_path: Path) -> None:
    store = SqlStore(sqlite_uri, str(tmp_path / "a"))
    try:
        _, run_id = _new_run(store)
        store.log_batch(run_id, metrics=_wide(0))
    finally:
        store.close()
    engine = sa.create_engine(sqlite_uri)
    try:
        with pytest.raises(RuntimeError, match="compact form"), engine.begin() as conn:
            _downgrade(conn, "0010_blob_storage")
        with engine.begin() as conn:  # folded (a read), the downgrade goes through
            conn.exec_driver_sql("DELETE FROM metric_batches")
            _downgrade(conn, "0010_blob_storage")
            columns = [row[1] for row in conn.exec_driver_sql("PRAGMA table_info(metric_batches)")]
            assert columns == ["batch_id", "run_uuid", "metric_keys", "data"]
            assert not conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE name = 'metric_key_sets'"
            ).first()
    finally:
        engine.dispose()


def _downgrade(conn: sa.Connection, revision: str) -> None:
    from alembic import command

    command.downgrade(migrations.alembic_config(conn), revision)  # type: ignore[arg-type]


def test_key_sets_register_on_the_second_sight_and_forget_past_their_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_sets = metric_batches.KeySets()
    assert key_sets.id_for("a\0b") == (None, False)  # first sight: inline
    assert key_sets.id_for("a\0b") == (None, True)  # second: inline, register once written
    assert key_sets.id_for("a\0b") == (None, True)  # (until registered)
    key_sets.registered("a\0b", 7)
    assert key_sets.id_for("a\0b") == (7, False)
    # Bounded by count and by characters: a forgotten list starts over.
    monkeypatch.setattr(metric_batches, "MAX_KEY_SETS", 3)
    monkeypatch.setattr(metric_batches, "MAX_KEY_SET_CHARS", 20)
    for name in ("c", "d", "e"):
        key_sets.registered(name, 1)
    assert key_sets.id_for("a\0b") == (None, False)
    assert key_sets.id_for("e") == (1, False)
    key_sets.registered("k" * 20, 5)  # 1 + 20 characters: past 20, the others are forgotten
    assert key_sets.id_for("e") == (None, False)
    assert key_sets.id_for("k" * 20) == (5, False)


def test_a_key_list_that_fails_to_register_stays_inline(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The batch is committed before its list is registered: a failure there is no failure of
    # the batch (a retry would log its points twice); the keys stay inline.
    def fail(_db: object, _joined: str) -> int:
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(metric_batches, "register_key_set", fail)
    _, run_id = _new_run(store)
    for step in range(3):
        store.log_batch(run_id, metrics=_wide(step))
    assert [row[1] for row in _rows(store)] == [None, None, None]
    assert [m.step for m in store.get_metric_history(run_id, KEYS[7])] == [0, 1, 2]
