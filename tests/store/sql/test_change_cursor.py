"""The store's change cursor (``runs.change_seq``, kept by triggers): every write to a run
numbers it above every earlier number, whoever wrote it; live updates read it."""

from __future__ import annotations

from collections.abc import Callable

from tracklet.entities import Metric, Param, RunStatus, RunTag
from tracklet.store.change_base import ChangeStore
from tracklet.store.sql.store import SqlStore


def _changed(store: SqlStore, experiment_id: str, after: int) -> dict[str, tuple[str, int]]:
    return {
        r.run_id: (r.status, r.change_seq) for r in store.changed_runs([experiment_id], [], after)
    }


def test_every_write_to_a_run_is_found_from_the_cursor_before_it(store: SqlStore) -> None:
    assert isinstance(store, ChangeStore)
    assert store.change_cursor() == 0
    experiment_id = store.create_experiment("changes")
    a = store.create_run(experiment_id, "u", 1, [], "a").info.run_id
    b = store.create_run(experiment_id, "u", 2, [], "b").info.run_id
    start = store.change_cursor()
    assert _changed(store, experiment_id, 0).keys() == {a, b}
    if store.engine.dialect.name == "sqlite":  # (PostgreSQL's answers look back a window)
        assert _changed(store, experiment_id, start + 1) == {}  # nothing since: none
    assert _changed(store, "999", 0) == {}  # another experiment's runs are not in the answer
    writes: list[tuple[str, Callable[[], object]]] = [
        (a, lambda: store.log_metric(a, Metric("loss", 0.5, 10, 0))),
        (a, lambda: store.log_metric(a, Metric("loss", 0.4, 11, 1))),  # timestamp 11, step 1
        (a, lambda: store.log_batch(a, [Metric(f"k{i}", 1.0, 1, 0) for i in range(300)], [], [])),
        (a, lambda: store.log_param(a, Param("lr", "0.1"))),
        (a, lambda: store.set_tag(a, RunTag("t", "v"))),
        (b, lambda: store.log_metric(b, Metric("loss", 0.5, 10, 0))),
        (a, lambda: store.update_run_info(a, RunStatus.to_string(RunStatus.FINISHED), 5, None)),
    ]
    for run, write in writes:
        before = store.change_cursor()
        write()
        assert store.change_cursor() >= before
        found = _changed(store, experiment_id, before)
        # Found from the cursor before the write: the run written to, and at most the run
        # that held that cursor (it may have changed since without a new number).
        assert run in found
        assert len(found) <= 2
    found = _changed(store, experiment_id, 0)
    assert found[a] == ("FINISHED", store.change_cursor())  # the status change renumbered a
    assert found[b][1] < found[a][1]
    steps = store.latest_metric_steps([a])
    assert ("loss", 1, 11) in [(key, step, stamp) for _, key, step, stamp in steps]
    assert len(steps) == 301


def test_a_cursor_is_seen_by_another_store_over_the_same_database(store_uri: str) -> None:
    # Two processes' stores, say: what one writes, the other's cursor read sees.
    writer, reader = SqlStore(store_uri), SqlStore(store_uri)
    try:
        experiment_id = writer.create_experiment("shared")
        run_id = writer.create_run(experiment_id, "u", 1, [], "r").info.run_id
        writer.create_run(experiment_id, "u", 2, [], "newer")  # holds the largest number
        cursor = reader.change_cursor()
        writer.log_metric(run_id, Metric("loss", 1.0, 1, 7))
        assert reader.change_cursor() > cursor
        found = reader.changed_runs([experiment_id], [], cursor + 1)
        assert [r.run_id for r in found if r.change_seq > cursor] == [run_id]
        assert [(k, step) for _, k, step, _ in reader.latest_metric_steps([run_id])] == [
            ("loss", 7)
        ]
    finally:
        writer.close()
        reader.close()


def test_wide_batches_of_alternating_runs_are_numbered_when_read(store_uri: str) -> None:
    """Two runs logging 100-key steps in turn (two clients of one server): a wide batch's row
    leaves its run's number alone (migration 0013), and whoever reads next, here another store
    over the database, folds it and finds the run from the cursor before the step."""
    writer, reader = SqlStore(store_uri), SqlStore(store_uri)
    try:
        experiment_id = writer.create_experiment("wide")
        runs = [writer.create_run(experiment_id, "u", i, [], f"r{i}").info.run_id for i in (1, 2)]
        keys = [f"layer{i}/grad_norm" for i in range(100)]
        for step in range(6):
            run_id = runs[step % 2]
            cursor = reader.change_cursor()
            numbers_before = _raw_change_seqs(writer)
            writer.log_metric_points(
                run_id,
                (keys, [step] * 100, [1000 + step] * 100, [step + i / 100 for i in range(100)]),
            )
            assert _raw_change_seqs(writer) == numbers_before  # the row alone: no renumbering
            found = _changed(reader, experiment_id, cursor)
            assert run_id in found
            assert found[run_id][1] > cursor
            assert reader.get_metric_history(run_id, "layer7/grad_norm").values[-1] == step + 0.07
        latest = {(r, k): s for r, k, s, _ in reader.latest_metric_steps(runs)}
        assert latest[(runs[0], "layer99/grad_norm")] == 4
        assert latest[(runs[1], "layer0/grad_norm")] == 5
    finally:
        writer.close()
        reader.close()


def _raw_change_seqs(store: SqlStore) -> dict[str, int | None]:
    """runs.change_seq as stored, read without the store's reader (which folds first)."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT run_uuid, change_seq FROM runs").fetchall()
    return {run_uuid: seq for run_uuid, seq in rows}
