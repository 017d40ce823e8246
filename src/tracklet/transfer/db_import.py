"""``tracklet import`` of an MLflow database: experiments, runs with every metric point,
params, tags, datasets and inputs, logged models, the model registry and traces, ids kept.

How it stays fast: the source is read with a handful of SQLAlchemy Core selects per batch of
runs, on the DB-API cursor (no ORM, no MLflow); a run's points for a key become one packed blob
(``metric_codec``) in ``metric_chunks`` and its latest value one ``latest_metrics`` row.

How it stays idempotent and resumable: every row is inserted with ON CONFLICT DO NOTHING, and a
batch of runs (rows, points and the copy of their artifacts) commits in one transaction, so a
run is in the destination with all of its data or not at all. A second import, or one after an
interruption, skips the runs already there and adds the rest.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tracklet.transfer import mlflow_tables as theirs
from tracklet.transfer.bulk import compile_text
from tracklet.transfer.db_import_extra import import_models, import_registry, import_traces
from tracklet.transfer.metric_reader import MetricRows, read_metrics, read_metrics_job
from tracklet.transfer.writer import write_experiments, write_runs

if TYPE_CHECKING:
    from tracklet.store.sql.store import SqlStore

Progress = Callable[[int | None, str, str], Any]


@dataclass(frozen=True)
class ImportOptions:
    """How ``import_database`` treats artifacts and how much it writes per transaction."""

    copy_artifacts: bool = True
    artifacts_destination: str | None = None
    batch_size: int = 50
    # Processes reading metric points beside the writer. Off by default: on 2 cores, moving the
    # points between processes cost more than reading them (1M points: 3.2 s with 2, 2.0 s
    # without); it can pay where cores are idle and the source is a remote PostgreSQL.
    workers: int = 0


def import_database(
    source_uri: str, store: SqlStore, options: ImportOptions, progress: Progress
) -> Counter[str]:
    """Import an MLflow database into ``store``; returns the counts of what was added."""
    from tracklet.transfer.source import mlflow_engine

    engine = mlflow_engine(source_uri)
    counts: Counter[str] = Counter()
    try:
        wrapper = engine.raw_connection()
        try:
            source = _Source(wrapper.driver_connection, engine.dialect.name)
            locations = _import_experiments(source, store, options, counts)
            import_models(source, store, options, locations, counts)
            _import_runs(source_uri, source, store, options, locations, counts, progress)
            import_registry(source, store, counts)
            import_traces(source, store, counts)
        finally:
            wrapper.close()
    finally:
        engine.dispose()
    advance_sequences(store)
    return counts


class _Source:
    """The source's DB-API connection: selects built with SQLAlchemy Core, run as text."""

    def __init__(self, dbapi: Any, dialect: str) -> None:
        self.dbapi = dbapi
        self.dialect = dialect
        self.tables = set(_table_names(dbapi, dialect))

    def rows(self, statement: sa.sql.ClauseElement) -> list[Any]:
        text, params = compile_text(statement, self.dialect)
        cursor = self.dbapi.cursor()
        cursor.execute(text, params)
        return list(cursor.fetchall())


def _table_names(dbapi: Any, dialect: str) -> list[str]:
    cursor = dbapi.cursor()
    if dialect == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    return [r[0] for r in cursor.fetchall()]


def _import_experiments(
    source: _Source, store: SqlStore, options: ImportOptions, counts: Counter[str]
) -> dict[str, str]:
    """Experiments and their tags; returns experiment id -> artifact location in the
    destination. Refuses, before writing anything, an id or name the destination already has
    for another experiment."""
    e = theirs.experiments
    rows = source.rows(
        sa.select(
            e.c.experiment_id,
            e.c.name,
            e.c.artifact_location,
            e.c.lifecycle_stage,
            e.c.creation_time,
            e.c.last_update_time,
        ).order_by(e.c.experiment_id)
    )
    t = theirs.experiment_tags
    tag_rows = [
        {"experiment_id": int(r[0]), "key": r[1], "value": r[2]}
        for r in source.rows(sa.select(t.c.experiment_id, t.c.key, t.c.value))
    ]
    ds = theirs.datasets
    dataset_rows = [
        {
            "dataset_uuid": r[0],
            "experiment_id": int(r[1]),
            "name": r[2],
            "digest": r[3],
            "source_type": r[4],
            "source": r[5],
            "schema": r[6],
            "profile": r[7],
        }
        for r in source.rows(
            sa.select(
                ds.c.dataset_uuid,
                ds.c.experiment_id,
                ds.c.name,
                ds.c.digest,
                ds.c.dataset_source_type,
                ds.c.dataset_source,
                ds.c.dataset_schema,
                ds.c.dataset_profile,
            )
        )
    ]
    return write_experiments(store, options, rows, tag_rows, dataset_rows, counts)


def _import_runs(
    source_uri: str,
    source: _Source,
    store: SqlStore,
    options: ImportOptions,
    locations: dict[str, str],
    counts: Counter[str],
    progress: Progress,
) -> None:
    r = theirs.runs
    all_runs = source.rows(
        sa.select(
            r.c.run_uuid,
            r.c.experiment_id,
            r.c.name,
            r.c.user_id,
            r.c.status,
            r.c.start_time,
            r.c.end_time,
            r.c.deleted_time,
            r.c.lifecycle_stage,
            r.c.artifact_uri,
        ).order_by(r.c.experiment_id, r.c.start_time, r.c.run_uuid)
    )
    with store._reader() as db:
        cursor = db.dbapi.cursor()
        cursor.execute("SELECT run_uuid FROM runs")
        present = {row[0] for row in cursor.fetchall()}
    todo = [row for row in all_runs if row[0] not in present]
    counts["runs already present"] += len(all_runs) - len(todo)
    batches = [todo[at : at + options.batch_size] for at in range(0, len(todo), options.batch_size)]
    workers = options.workers
    pool = None
    if workers and len(batches) > 1:
        # Spawned, not forked: this process has the store's threads and connections.
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        points: Iterator[MetricRows] = pool.map(
            read_metrics_job, [source_uri] * len(batches), [[r[0] for r in b] for b in batches]
        )
    else:
        points = (read_metrics(source.dbapi, source.dialect, [r[0] for r in b]) for b in batches)
    try:
        with progress(len(todo), "Importing runs", "run") as bar:
            for batch, metric_rows in zip(batches, points, strict=True):
                _import_run_batch(source, store, options, locations, batch, metric_rows, counts)
                bar.update(len(batch))
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _in(column: Any, values: Iterable[str]) -> Any:
    return column.in_(list(values))


def _import_run_batch(
    source: _Source,
    store: SqlStore,
    options: ImportOptions,
    locations: dict[str, str],
    batch: list[Any],
    metric_rows: MetricRows,
    counts: Counter[str],
) -> None:
    ids = [row[0] for row in batch]
    p, t = theirs.params, theirs.tags
    params = [
        {"run_uuid": row[0], "key": row[1], "value": row[2]}
        for row in source.rows(
            sa.select(p.c.run_uuid, p.c.key, p.c.value).where(_in(p.c.run_uuid, ids))
        )
    ]
    tags = [
        {"run_uuid": row[0], "key": row[1], "value": row[2]}
        for row in source.rows(
            sa.select(t.c.run_uuid, t.c.key, t.c.value).where(_in(t.c.run_uuid, ids))
        )
    ]
    write_runs(
        store,
        options,
        locations,
        batch,
        params,
        tags,
        metric_rows,
        _input_rows(source, ids),
        counts,
    )


def _input_rows(
    source: _Source, ids: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Dataset links (in logging order) with their tags, model inputs and model outputs."""
    i = theirs.inputs
    rows = source.rows(
        sa.select(
            i.c.input_uuid,
            i.c.source_type,
            i.c.source_id,
            i.c.destination_type,
            i.c.destination_id,
            i.c.step,
        ).where(
            sa.or_(
                sa.and_(i.c.destination_type == "RUN", _in(i.c.destination_id, ids)),
                sa.and_(i.c.source_type.in_(["RUN_INPUT", "RUN_OUTPUT"]), _in(i.c.source_id, ids)),
            )
        )
    )
    positions: defaultdict[str, int] = defaultdict(int)
    datasets, models_in, models_out = [], [], []
    by_input: dict[str, tuple[str, str]] = {}
    for input_uuid, source_type, source_id, destination_type, destination_id, step in rows:
        if source_type == "DATASET" and destination_type == "RUN":
            by_input[input_uuid] = (destination_id, source_id)
            datasets.append(
                {
                    "run_uuid": destination_id,
                    "dataset_uuid": source_id,
                    "position": positions[destination_id],
                }
            )
            positions[destination_id] += 1
        elif source_type == "RUN_INPUT" and destination_type == "MODEL_INPUT":
            models_in.append(
                {
                    "run_uuid": source_id,
                    "model_id": destination_id,
                    "position": positions["m" + source_id],
                }
            )
            positions["m" + source_id] += 1
        elif source_type == "RUN_OUTPUT" and destination_type == "MODEL_OUTPUT":
            models_out.append(
                {"run_uuid": source_id, "model_id": destination_id, "step": step or 0}
            )
    tags = []
    if by_input:
        t = theirs.input_tags
        for input_uuid, name, value in source.rows(
            sa.select(t.c.input_uuid, t.c.name, t.c.value).where(_in(t.c.input_uuid, by_input))
        ):
            run_id, dataset_uuid = by_input[input_uuid]
            tags.append(
                {"run_uuid": run_id, "dataset_uuid": dataset_uuid, "key": name, "value": value}
            )
    return datasets, tags, models_in, models_out


def advance_sequences(store: SqlStore) -> None:
    """PostgreSQL: experiment ids were inserted as they were, so move the id sequence past them
    (SQLite takes max(id) + 1 by itself)."""
    if store.engine.dialect.name != "postgresql":
        return
    with store._writer.transaction() as db:
        db.dbapi.cursor().execute(
            "SELECT setval(pg_get_serial_sequence('experiments', 'experiment_id'), "
            "(SELECT GREATEST(MAX(experiment_id), 1) FROM experiments))"
        )
