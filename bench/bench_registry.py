"""The model registry: tracklet vs mlflow 3.17.2, same machine, same run (issue 14's targets).

    python -m bench.bench_registry                     # 10,000 versions (MLflow: minutes)
    python -m bench.bench_registry --versions 2000     # quicker

Workloads, each library in fresh interpreters on a fresh local SQLite store:

- ``register_model`` of an already logged model (``models:/<model_id>``), through the fluent
  API, mean of 50 registrations after the first (which also creates the registered model);
- ``search_model_versions("name = 'x'")`` over N versions of one model, 100 results, warm,
  best of 5 (the versions are made through each library's own store API);
- 8 processes registering 25 versions each of one model at once: errors, and whether the
  versions are exactly 1..200.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from bench._common import Row, emit, print_table, run_worker

MODULE = "bench.bench_registry"
REGISTRATIONS = 50
PROCESSES, EACH = 8, 25


def _uri(lib: str) -> str:
    return f"sqlite:///{os.path.abspath('m.db' if lib == 'mlflow' else 't.db')}"


def _fluent(lib: str):  # type: ignore[no-untyped-def]
    if lib == "mlflow":
        import mlflow
    else:
        import tracklet as mlflow  # type: ignore[no-redef]
    mlflow.set_tracking_uri(_uri(lib))
    return mlflow


def w_register(lib: str) -> None:
    mlflow = _fluent(lib)
    with mlflow.start_run():
        model_ids = []
        for i in range(REGISTRATIONS + 1):
            model = mlflow.initialize_logged_model(name=f"m{i}")
            mlflow.finalize_logged_model(model.model_id, "READY")
            model_ids.append(model.model_id)
    devnull = open(os.devnull, "w")  # noqa: SIM115 (both print progress to stderr)
    sys.stderr = devnull
    mlflow.register_model(f"models:/{model_ids[0]}", "bench")
    start = time.perf_counter()
    for model_id in model_ids[1:]:
        mlflow.register_model(f"models:/{model_id}", "bench")
    seconds = (time.perf_counter() - start) / REGISTRATIONS
    sys.stderr = sys.__stderr__
    version = mlflow.MlflowClient().get_model_version("bench", str(REGISTRATIONS + 1))
    assert version.source == f"models:/{model_ids[-1]}", version.source
    emit({"seconds": seconds})


def _registry_store(lib: str):  # type: ignore[no-untyped-def]
    if lib == "mlflow":
        from mlflow.entities.model_registry import ModelVersionTag
        from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

        return SqlAlchemyStore(_uri(lib)), ModelVersionTag
    from tracklet.entities.model_registry import ModelVersionTag  # type: ignore[assignment]
    from tracklet.store.sql.store import SqlStore

    return SqlStore(_uri(lib)), ModelVersionTag


def w_search(lib: str, count: str) -> None:
    store, tag = _registry_store(lib)
    store.create_registered_model("x")
    store.create_registered_model("other")
    start = time.perf_counter()
    for i in range(int(count)):
        store.create_model_version("x", f"s3://bucket/x/{i}", tags=[tag("i", str(i))])
        if i % 10 == 0:
            store.create_model_version("other", f"s3://bucket/o/{i}")
    fill = time.perf_counter() - start
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        page = store.search_model_versions("name = 'x'", max_results=100)
        timings.append(time.perf_counter() - start)
    assert len(page) == 100, len(page)
    assert page.token
    assert [int(v.version) for v in page] == list(range(int(count), int(count) - 100, -1))
    emit({"seconds": min(timings), "fill": fill})


_REGISTRAR = """
import sys
lib, uri, worker, each = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if lib == "mlflow":
    from mlflow import MlflowClient
else:
    from tracklet import MlflowClient
client = MlflowClient(uri)
errors, versions = 0, []
for i in range(each):
    try:
        versions.append(client.create_model_version("shared", f"s3://b/{worker}/{i}").version)
    except Exception as error:
        errors += 1
        print(repr(error)[:200], file=sys.stderr)
print(errors, " ".join(str(v) for v in versions))
"""


def w_concurrent(lib: str) -> None:
    store, _ = _registry_store(lib)
    store.create_registered_model("shared")
    env = {**os.environ, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _REGISTRAR, lib, _uri(lib), str(w), str(EACH)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        for w in range(PROCESSES)
    ]
    errors, versions = 0, []
    for proc in procs:
        out, _ = proc.communicate(timeout=1800)
        failed, *made = out.split()
        errors += int(failed)
        versions += [int(v) for v in made]
    seconds = time.perf_counter() - start
    gapless = sorted(versions) == list(range(1, PROCESSES * EACH + 1))
    emit({"seconds": seconds, "errors": errors, "gapless": gapless, "made": len(versions)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=10000)
    args = parser.parse_args()
    results = {
        lib: {
            "register": run_worker(MODULE, lib, "register"),
            "search": run_worker(MODULE, lib, "search", str(args.versions), timeout=7200),
            "concurrent": run_worker(MODULE, lib, "concurrent", timeout=3600),
        }
        for lib in ("mlflow", "tracklet")
    }
    m, t = results["mlflow"], results["tracklet"]
    rows = [
        Row(
            "register_model of an already logged model (fluent, mean of 50)",
            "ms",
            m["register"]["seconds"] * 1000,
            t["register"]["seconds"] * 1000,
            "<= 1/20 of mlflow",
            higher_is_better=False,
        ),
        Row(
            f"search_model_versions(\"name = 'x'\"), {args.versions:,} versions, 100 results",
            "ms",
            m["search"]["seconds"] * 1000,
            t["search"]["seconds"] * 1000,
            "<= 20 ms",
            higher_is_better=False,
            note=f"fill: mlflow {m['search']['fill']:.0f} s, tracklet {t['search']['fill']:.1f} s",
        ),
    ]
    for lib, r in (("mlflow", m), ("tracklet", t)):
        c = r["concurrent"]
        rows.append(
            Row(
                f"{PROCESSES} processes x {EACH} versions of one model ({lib})",
                "s",
                c["seconds"] if lib == "mlflow" else None,
                c["seconds"] if lib == "tracklet" else None,
                "0 errors, 1..N no gap",
                higher_is_better=False,
                note=f"{c['errors']} errors, {c['made']} made, gapless: {c['gapless']}",
            )
        )
    print_table("Model registry: tracklet vs mlflow 3.17.2 (local SQLite)", rows)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        _, _, lib, name, *rest = sys.argv
        {"register": w_register, "search": w_search, "concurrent": w_concurrent}[name](lib, *rest)
    else:
        main()
