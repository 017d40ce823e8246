"""Search benchmark (issue 3): tracklet vs mlflow 3.17.2 on the same runs, printed as a table.

    python -m bench.bench_search              # builds the data sets once (cached), then measures
    python -m bench.bench_search --explain    # also prints the query plans of the target query

Workload: each run has 5 params (lr in 4 values, batch_size, optimizer, dropout, seed), 5
metrics (acc, loss, f1, precision, recall; one point each), 3 tags (environment, model_family,
team) plus mlflow.runName, and increasing start times. The same seeded generator feeds:

- tracklet, SQLite, 5,000 and 100,000 runs: written through tracklet's own store
  (``SqlStore.create_run`` + ``log_batch``, one run at a time);
- tracklet, PostgreSQL, 100,000 runs: the SQLite data set's rows copied table by table with
  COPY (writing 100k runs one API call at a time costs ~10 min on PostgreSQL), then ANALYZE;
- mlflow, SQLite, 5,000 runs: through MLflow's own ``SqlAlchemyStore.create_run`` +
  ``log_batch``, with ``PRAGMA synchronous=OFF`` and WAL while loading only (~20 ms a run
  instead of ~70).

Data sets are cached under ``$TMPDIR/tracklet-bench-search`` (and PostgreSQL schemas
``bench_search_*``); ``--rebuild`` makes them anew. Searches go through each library's
``MlflowClient.search_runs`` (and ``search_runs`` for the DataFrame), warm, best of N; full scans
read every run's metrics.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench._common import Row, emit, print_table, run_worker

MODULE = "bench.bench_search"
CACHE = Path(tempfile.gettempdir()) / "tracklet-bench-search"
POSTGRES = os.environ.get("TRACKLET_TEST_POSTGRES_URI", "postgresql://postgres@127.0.0.1:5432/test")
FILTER = "metrics.acc > 0.5 and params.lr = '0.01'"
ORDER = ["metrics.acc DESC"]
START = 1_700_000_000_000


def _runs(
    n: int, seed: int = 0
) -> Iterator[tuple[int, dict[str, str], dict[str, str], dict[str, float]]]:
    rng = random.Random(seed)
    for i in range(n):
        tags = {
            "environment": rng.choice(["production", "staging", "dev"]),
            "model_family": rng.choice(["transformer", "cnn", "rnn", "mlp"]),
            "team": f"team-{rng.randrange(10)}",
        }
        params = {
            "lr": rng.choice(["0.1", "0.01", "0.001", "0.0001"]),
            "batch_size": str(rng.choice([16, 32, 64, 128])),
            "optimizer": rng.choice(["adam", "sgd", "adamw"]),
            "dropout": f"{rng.random():.2f}",
            "seed": str(i),
        }
        metrics = {k: rng.random() for k in ("acc", "loss", "f1", "precision", "recall")}
        yield START + i, tags, params, metrics


def _pg_uri(schema: str) -> str:
    sep = "&" if "?" in POSTGRES else "?"
    return f"{POSTGRES}{sep}options=-csearch_path%3D{schema}"


def _sqlite_uri(name: str) -> str:
    return f"sqlite:///{CACHE / name}"


# ---------------------------------------------------------------------- building data sets


def build_tracklet(uri: str, n: int) -> None:
    from tracklet.entities import Metric, Param, RunTag
    from tracklet.store.sql.store import SqlStore

    store = SqlStore(uri, default_artifact_root=str(CACHE / "artifacts"))
    experiment_id = store.create_experiment("bench")
    for start, tags, params, metrics in _runs(n):
        run = store.create_run(
            experiment_id, "bench", start, [RunTag(k, v) for k, v in tags.items()], None
        )
        store.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, start, 0) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()],
        )
        store.update_run_info(run.info.run_id, "FINISHED", start + 1000, None)
    store.close()


def build_mlflow(path: Path, n: int) -> None:
    import sqlalchemy
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(f"sqlite:///{path}", str(CACHE / "mlflow-artifacts"))
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    # Loading only: the measurements open the file afresh with MLflow's own settings.
    sqlalchemy.event.listen(
        store.engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA synchronous=OFF")
    )
    store.engine.dispose()
    experiment_id = store.create_experiment("bench")
    for start, tags, params, metrics in _runs(n):
        run = store.create_run(
            experiment_id, "bench", start, [RunTag(k, v) for k, v in tags.items()], None
        )
        store.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, start, 0) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()],
            tags=[],
        )
        store.update_run_info(run.info.run_id, 3, start + 1000, None)  # FINISHED
    store.engine.dispose()


_COPIED = ("experiments", "runs", "params", "tags", "latest_metrics")


def copy_to_postgres(sqlite_path: Path, schema: str) -> None:
    import psycopg

    from tracklet.store.sql.store import SqlStore

    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.execute(f"CREATE SCHEMA {schema}")
    SqlStore(_pg_uri(schema), default_artifact_root=str(CACHE / "artifacts")).close()
    source = sqlite3.connect(sqlite_path)
    with psycopg.connect(POSTGRES, autocommit=False) as conn:
        conn.execute(f"SET search_path TO {schema}")
        # A copy of a consistent database: the part tables' triggers would clear the packs
        # copied with the runs (and foreign keys are already satisfied).
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM experiments")
        for table in _COPIED:
            cursor = source.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            is_nan = names.index("is_nan") if "is_nan" in names else -1
            with conn.cursor().copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                for row in cursor:
                    if is_nan >= 0:
                        row = (*row[:is_nan], bool(row[is_nan]), *row[is_nan + 1 :])
                    copy.write_row(row)
        # Runs created after the copy are numbered after the copied ones (migration 0007).
        conn.execute(
            "SELECT setval('runs_creation_seq', n) FROM (SELECT MAX(creation_seq) AS n FROM runs)"
            " AS latest WHERE n IS NOT NULL"
        )
        conn.commit()
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {schema}")
        conn.execute("VACUUM ANALYZE")


def ensure_data(rebuild: bool) -> None:
    CACHE.mkdir(exist_ok=True)
    for name, build in (
        ("tracklet-5k.db", lambda: build_tracklet(_sqlite_uri("tracklet-5k.db"), 5000)),
        ("tracklet-100k.db", lambda: build_tracklet(_sqlite_uri("tracklet-100k.db"), 100_000)),
        ("mlflow-5k.db", lambda: build_mlflow(CACHE / "mlflow-5k.db", 5000)),
    ):
        path = CACHE / name
        if rebuild or not (CACHE / f"{name}.done").exists():
            for leftover in CACHE.glob(f"{name}*"):
                leftover.unlink()
            started = time.perf_counter()
            print(f"building {name} ...", file=sys.stderr, flush=True)
            build()
            (CACHE / f"{name}.done").write_text(f"{time.perf_counter() - started:.0f} s\n")
        print(f"{name}: built in {(CACHE / f'{name}.done').read_text().strip()}", file=sys.stderr)
        assert path.exists()
    marker = CACHE / "postgres-100k.done"
    if rebuild or not marker.exists():
        started = time.perf_counter()
        print("copying tracklet-100k.db to PostgreSQL ...", file=sys.stderr, flush=True)
        copy_to_postgres(CACHE / "tracklet-100k.db", "bench_search_100k")
        marker.write_text(f"{time.perf_counter() - started:.0f} s\n")


# ---------------------------------------------------------------------- workloads


def _client(lib: str, uri: str) -> Any:
    if lib == "mlflow":
        from mlflow import MlflowClient
    else:
        from tracklet import MlflowClient
    return MlflowClient(uri)


def _experiment(client: Any) -> str:
    return str(client.get_experiment_by_name("bench").experiment_id)


def w_query(lib: str, uri: str, repeats: str) -> None:
    """The target query, warm: best and median of ``repeats`` runs."""
    client = _client(lib, uri)
    experiment_id = _experiment(client)
    times = []
    for _ in range(int(repeats)):
        started = time.perf_counter()
        page = client.search_runs([experiment_id], FILTER, max_results=100, order_by=ORDER)
        times.append(time.perf_counter() - started)
    accs = [r.data.metrics["acc"] for r in page]
    assert len(page) == 100
    assert accs == sorted(accs, reverse=True)
    assert all(r.data.params["lr"] == "0.01" and r.data.metrics["acc"] > 0.5 for r in page)
    times.sort()
    emit({"seconds": times[0], "median": times[len(times) // 2], "first": page[0].info.run_id})


def w_scan(lib: str, uri: str, limit: str) -> None:
    """Every run of the experiment, in pages of 1000 (default order), reading each run's
    metrics as a caller would: a warm-up pass, then the best of three."""
    client = _client(lib, uri)
    experiment_id = _experiment(client)

    def scan() -> tuple[int, float]:
        seen = 0
        token = None
        started = time.perf_counter()
        while seen < int(limit):
            page = client.search_runs([experiment_id], "", max_results=1000, page_token=token)
            seen += len(page)
            assert all(len(run.data.metrics) == 5 for run in page)
            token = page.token
            if not token:
                break
        return seen, time.perf_counter() - started

    scan()
    seen, elapsed = min((scan() for _ in range(3)), key=lambda result: result[1])
    emit({"rate": seen / elapsed, "runs": seen, "seconds": elapsed})


def w_dataframe(lib: str, uri: str, n: str) -> None:
    if lib == "mlflow":
        import mlflow as api
    else:
        import tracklet as api
    api.set_tracking_uri(uri)
    experiment_id = _experiment(api.MlflowClient())
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        frame = api.search_runs([experiment_id], max_results=int(n))
        best = min(best, time.perf_counter() - started)
    assert frame.shape == (int(n), 20), frame.shape
    emit({"seconds": best, "shape": list(frame.shape)})


WORKERS = {"query": w_query, "scan": w_scan, "dataframe": w_dataframe}


# ---------------------------------------------------------------------- query plans


def explain() -> None:
    """EXPLAIN the statements the target queries run, on SQLite and PostgreSQL (100k runs): the
    filtered query, and a full scan's second page (default order, after a page token)."""
    from tracklet.store.sql import compiled
    from tracklet.store.sql.store import SqlStore

    captured: list[Any] = []
    original = compiled.Db.execute_core

    def capture(self: Any, statement: Any) -> Any:
        captured.append(statement)
        return original(self, statement)

    compiled.Db.execute_core = capture  # type: ignore[method-assign]
    for label, uri in (
        ("SQLite", _sqlite_uri("tracklet-100k.db")),
        ("PostgreSQL", _pg_uri("bench_search_100k")),
    ):
        store = SqlStore(uri, default_artifact_root=str(CACHE / "artifacts"))
        experiment_id = store.get_experiment_by_name("bench").experiment_id  # type: ignore[union-attr]
        first_page = store.search_runs([experiment_id], "", 1, 1000, None, None)
        queries: list[tuple[str, str, int, list[str] | None, str | None]] = [
            (f"{FILTER}, order by {ORDER[0]}, 100 results", FILTER, 100, ORDER, None),
            (
                "full scan, second page of 1000 (default order: start_time DESC, run_id)",
                "",
                1000,
                None,
                first_page.token,
            ),
        ]
        for title, filter_string, max_results, order_by, token in queries:
            captured.clear()
            store.search_runs([experiment_id], filter_string, 1, max_results, order_by, token)
            with store._reader() as db:
                dialect = compiled._dialect_for(db.dialect_name)
                texts = [
                    s.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
                    for s in captured
                ]
                # The page query (SQLite first runs a capped count per filter: choose_driver).
                sql = next(t for t in texts if "ORDER BY" in str(t))
                prefix = (
                    "EXPLAIN QUERY PLAN " if label == "SQLite" else "EXPLAIN (ANALYZE, COSTS OFF) "
                )
                cursor = db.dbapi.cursor()
                cursor.execute(prefix + str(sql), sql.params)
                rows = cursor.fetchall()
            print(f"\n{label}: {title}, 100,000 runs\n")
            print(str(sql))
            print()
            for row in rows:
                print("   ", row[-1] if label == "SQLite" else row[0])
        store.close()
    compiled.Db.execute_core = original  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="build the data sets anew")
    parser.add_argument("--explain", action="store_true", help="print the target query plans")
    parser.add_argument("--skip-mlflow", action="store_true", help="tracklet column only")
    args = parser.parse_args()
    ensure_data(args.rebuild)
    t5k, t100k = _sqlite_uri("tracklet-5k.db"), _sqlite_uri("tracklet-100k.db")
    pg = _pg_uri("bench_search_100k")
    m5k = _sqlite_uri("mlflow-5k.db")

    def ours(name: str, *a: str) -> dict:
        return run_worker(MODULE, "tracklet", name, *a)

    def theirs(name: str, *a: str) -> dict | None:
        return None if args.skip_mlflow else run_worker(MODULE, "mlflow", name, *a)

    rows: list[Row] = []
    m, t = theirs("query", m5k, "5"), ours("query", t5k, "20")
    assert m is None or m["first"] is not None
    rows.append(
        Row(
            f"{FILTER!r} by acc DESC, 100 results, 5,000 runs (SQLite)",
            "ms",
            m and m["seconds"] * 1000,
            t["seconds"] * 1000,
            "<= 20 ms",
            higher_is_better=False,
            note=f"median {t['median'] * 1000:.1f} ms",
        )
    )
    for label, uri in (("SQLite", t100k), ("PostgreSQL", pg)):
        t = ours("query", uri, "20")
        rows.append(
            Row(
                f"the same, 100,000 runs ({label})",
                "ms",
                None,
                t["seconds"] * 1000,
                "<= 100 ms",
                higher_is_better=False,
                note=f"median {t['median'] * 1000:.1f} ms",
            )
        )
    m, t = theirs("scan", m5k, "5000"), ours("scan", t5k, "5000")
    rows.append(
        Row(
            "full scan, pages of 1000, 5,000 runs (SQLite)",
            "runs/s",
            m and m["rate"],
            t["rate"],
            ">= 100,000",
        )
    )
    for label, uri in (("SQLite", t100k), ("PostgreSQL", pg)):
        t = ours("scan", uri, "100000")
        rows.append(
            Row(
                f"full scan, pages of 1000, 100,000 runs ({label})",
                "runs/s",
                None,
                t["rate"],
                ">= 100,000",
            )
        )
    m = theirs("dataframe", m5k, "5000")
    for label, uri in (("SQLite", t100k), ("PostgreSQL", pg)):
        t = ours("dataframe", uri, "10000")
        rows.append(
            Row(
                f"search_runs DataFrame, 10,000 runs x 20 columns ({label})",
                "s",
                None,
                t["seconds"],
                "<= 0.5 s",
                higher_is_better=False,
            )
        )
    if m:
        rows.append(
            Row(
                "search_runs DataFrame, 5,000 runs x 20 columns (SQLite)",
                "s",
                m["seconds"],
                None,
                "(mlflow reference)",
                higher_is_better=False,
            )
        )
    print_table("Search: tracklet vs mlflow 3.17.2 (same workload, same machine, one run)", rows)
    if args.explain:
        explain()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        WORKERS[sys.argv[3]](sys.argv[2], *sys.argv[4:])
    else:
        main()
