"""search_logged_models over many models: tracklet vs mlflow 3.17.2, same machine, same run.

    python -m bench.bench_logged_models                 # 10,000 models each (MLflow: ~4 min)
    python -m bench.bench_logged_models --models 2000   # quicker

Each library gets a fresh SQLite store in a temporary directory, filled through its own store API:
N logged models in one experiment, each with a ``family`` tag, two params and an ``accuracy``
metric logged on a dataset. The timed query is the seed's kind of search: a tag filter and a
dataset-scoped metric filter, ordered by that metric, 100 results (best of 5, warm).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from bench._common import Row, emit, print_table, run_worker

MODULE = "bench.bench_logged_models"
FILTER = "tags.family = 'trees' AND metrics.accuracy > 0.5"
ORDER = [{"field_name": "metrics.accuracy", "ascending": False, "dataset_name": "test_set"}]
DATASETS = [{"dataset_name": "test_set"}]


def _fill(store: object, entities: object, count: int, run_id: str) -> None:
    now = int(time.time() * 1000)
    for i in range(count):
        model = store.create_logged_model(  # type: ignore[attr-defined]
            "0",
            name=f"model{i}",
            source_run_id=run_id,
            tags=[entities.LoggedModelTag("family", "trees" if i % 3 else "linear")],  # type: ignore[attr-defined]
            params=[
                entities.LoggedModelParameter("depth", str(i % 7)),  # type: ignore[attr-defined]
                entities.LoggedModelParameter("lr", "0.01"),  # type: ignore[attr-defined]
            ],
            model_type="classifier",
        )
        metric = entities.Metric(  # type: ignore[attr-defined]
            "accuracy",
            (i * 7919 % 1000) / 1000,
            now,
            0,
            model_id=model.model_id,
            dataset_name="test_set",
            dataset_digest="d1",
            run_id=run_id,
        )
        store.log_batch(run_id, metrics=[metric], params=[], tags=[])  # type: ignore[attr-defined]


def w_search(lib: str, count: str) -> None:
    n = int(count)
    if lib == "mlflow":
        from mlflow import entities
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        store = SqlAlchemyStore(f"sqlite:///{os.path.abspath('m.db')}", os.path.abspath("art"))
    else:
        from tracklet import entities  # type: ignore[no-redef]
        from tracklet.store.sql.store import SqlStore

        store = SqlStore(f"sqlite:///{os.path.abspath('t.db')}")  # type: ignore[assignment]
    run = store.create_run("0", "bench", int(time.time() * 1000), [], "models")
    start = time.perf_counter()
    _fill(store, entities, n, run.info.run_id)
    fill_seconds = time.perf_counter() - start
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        page = store.search_logged_models(
            ["0"], filter_string=FILTER, datasets=DATASETS, max_results=100, order_by=ORDER
        )
        timings.append(time.perf_counter() - start)
    assert len(page) == 100, len(page)
    values = [m.metrics[0].value for m in page]
    assert values == sorted(values, reverse=True)
    emit({"seconds": min(timings), "fill": fill_seconds})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10000)
    parser.add_argument("--skip-mlflow", action="store_true")
    args = parser.parse_args()
    theirs = None
    if not args.skip_mlflow:
        theirs = run_worker(MODULE, "mlflow", "search", str(args.models), timeout=3600)
    ours = run_worker(MODULE, "tracklet", "search", str(args.models))
    note = f"fill: tracklet {ours['fill']:.1f} s" + (
        f", mlflow {theirs['fill']:.1f} s" if theirs else ""
    )
    rows = [
        Row(
            f"search_logged_models, {args.models:,} models, tag + dataset-scoped metric "
            "filter, order by metric, 100 results",
            "s",
            theirs and theirs["seconds"],
            ours["seconds"],
            "<= 0.050 s",
            higher_is_better=False,
            note=note,
        )
    ]
    print_table("Logged models: tracklet vs mlflow 3.17.2 (best of 5; local SQLite)", rows)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        _, _, lib, name, *rest = sys.argv
        {"search": w_search}[name](lib, *rest)
    else:
        main()
