"""Autologging overhead: tracklet against MLflow 3.17.2, same machine, same run.

Run by hand (several minutes; MLflow's model logging infers requirements in a subprocess)::

    .venv/bin/python bench/bench_autolog.py
    .venv/bin/python bench/bench_autolog.py --skip-lightning
    .venv/bin/python -m bench.bench_autolog --only lightning import --repeat 3

Rows (each library in its own fresh interpreter and SQLite store; a workload is warmed up once,
so imports and first-use costs are not counted, then timed with autologging on and off):
- sklearn ``LogisticRegression.fit`` on 1,000 x 20: added wall time per fit (best of 3 each);
  and the same until ``flush_async_logging()`` returns (tracklet draws the training plots on
  a worker thread: the second figure includes that work).
- ``GridSearchCV`` of 24 candidates x 3 folds on the same data: added wall time.
- Lightning, 20 epochs x 50 steps of a small MLP on CPU, ``log_every_n_step=1``: added time
  per training step (the whole fit's added time, model logging included, over 1,000 steps;
  ``--repeat`` alternates on and off fits, best of each); and the same until
  ``flush_async_logging()`` returns (every point written).
- ``import tracklet`` (and with ``tracklet.autolog()``): wall time of a fresh interpreter's
  import over an empty one's (best of 7).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._common import Row, emit, print_table, run_worker


def _lib(name: str) -> Any:
    import importlib

    lib = importlib.import_module(name)
    lib.set_tracking_uri("sqlite:///bench.db")
    return lib


def _data() -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 20))
    return x, (x[:, :3].sum(axis=1) > 0).astype(int)


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def worker_lr(name: str) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression

    lib = _lib(name)
    x, y = _data()

    def fit_and_flush() -> None:
        LogisticRegression(max_iter=200).fit(x, y)
        lib.flush_async_logging()

    lib.sklearn.autolog()
    fit_and_flush()  # warm-up: plotting, pickling, store
    # What the training thread waits for (tracklet draws the plots on a worker thread)...
    on = min(_timed(lambda: LogisticRegression(max_iter=200).fit(x, y)) for _ in range(3))
    lib.flush_async_logging()
    # ...and everything, the background work included (what an immediate reader waits for).
    on_flushed = min(_timed(fit_and_flush) for _ in range(3))
    lib.sklearn.autolog(disable=True)
    off = min(_timed(lambda: LogisticRegression(max_iter=200).fit(x, y)) for _ in range(3))
    return {"added_ms": (on - off) * 1000, "added_ms_flushed": (on_flushed - off) * 1000}


def worker_grid(name: str) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    lib = _lib(name)
    x, y = _data()
    # 6 x 2 x 2 = 24 candidates
    grid = {
        "C": [0.01, 0.1, 0.3, 1.0, 3.0, 10.0],
        "fit_intercept": [True, False],
        "tol": [1e-4, 1e-3],
    }

    def search() -> None:
        GridSearchCV(LogisticRegression(), grid, cv=3).fit(x, y)

    lib.sklearn.autolog()
    GridSearchCV(LogisticRegression(), {"C": [1.0, 2.0]}, cv=2).fit(x, y)  # warm-up
    on = _timed(search)
    lib.sklearn.autolog(disable=True)
    off = _timed(search)
    return {"added_ms": (on - off) * 1000}


def worker_lightning(name: str) -> dict[str, float]:
    import pytorch_lightning as pl
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    lib = _lib(name)

    class Net(pl.LightningModule):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(20, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1)
            )

        def forward(self, x: Any) -> Any:
            return self.net(x)

        def training_step(self, batch: Any, _: int) -> Any:
            x, y = batch
            loss = torch.nn.functional.mse_loss(self(x), y)
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            return loss

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=0.01)

    x = torch.randn(1600, 20)
    loader = DataLoader(TensorDataset(x, x.sum(dim=1, keepdim=True)), batch_size=32)

    def fit(epochs: int) -> None:
        pl.Trainer(
            max_epochs=epochs,
            enable_progress_bar=False,
            enable_model_summary=False,
            logger=False,
            enable_checkpointing=False,
        ).fit(Net(), loader)

    def fit_and_flush() -> None:
        fit(20)
        lib.flush_async_logging()

    lib.pytorch.autolog(log_every_n_step=1)
    fit(1)  # warm-up
    lib.flush_async_logging()
    ons, flushed, offs = [], [], []
    # On and off alternate (best of each): a shared machine's load drifts within a minute.
    for _ in range(int(os.environ.get("BENCH_AUTOLOG_REPEAT", "1"))):
        lib.pytorch.autolog(log_every_n_step=1)
        ons.append(_timed(lambda: fit(20)))
        lib.flush_async_logging()
        flushed.append(_timed(fit_and_flush))
        lib.pytorch.autolog(disable=True)
        offs.append(_timed(lambda: fit(20)))
    steps = 20 * 50
    return {
        "added_us_per_step": (min(ons) - min(offs)) / steps * 1e6,
        "added_us_per_step_flushed": (min(flushed) - min(offs)) / steps * 1e6,
    }


WORKERS = {"lr": worker_lr, "grid": worker_grid, "lightning": worker_lightning}


def _import_time(code: str = "import tracklet") -> float:
    def best(code: str) -> float:
        return min(
            _timed(lambda: subprocess.run([sys.executable, "-c", code], check=True))
            for _ in range(7)
        )

    return best(code) - best("pass")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        emit(WORKERS[sys.argv[3]](sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-lightning", action="store_true")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=("lr", "grid", "lightning", "import"),
        help="run only these rows (default: all)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="Lightning: alternate on/off fits this many times, best of each (default 1)",
    )
    args = parser.parse_args()
    os.environ["BENCH_AUTOLOG_REPEAT"] = str(args.repeat)
    only = set(args.only or ("lr", "grid", "lightning", "import"))
    module = "bench.bench_autolog"
    rows = []
    for workload, label, key, unit, target in (
        (
            "lr",
            "sklearn LogisticRegression.fit 1,000x20: added time",
            "added_ms",
            "ms",
            "<= 2% of MLflow's and <= 50 ms",
        ),
        (
            "grid",
            "GridSearchCV 24 candidates x 3 folds: added time",
            "added_ms",
            "ms",
            "<= 5% of MLflow's",
        ),
        (
            "lightning",
            "Lightning 20 epochs x 50 steps, log_every_n_step=1: added per step",
            "added_us_per_step",
            "us",
            "<= 100 us",
        ),
    ):
        if workload not in only or (workload == "lightning" and args.skip_lightning):
            continue
        theirs = run_worker(module, "mlflow", workload, timeout=3600)
        ours = run_worker(module, "tracklet", workload, timeout=3600)
        rows.append(Row(label, unit, theirs[key], ours[key], target, higher_is_better=False))
        if workload == "lightning":
            rows.append(
                Row(
                    "  same, until every point is written (flush_async_logging)",
                    unit,
                    theirs["added_us_per_step_flushed"],
                    ours["added_us_per_step_flushed"],
                    "(for information)",
                    higher_is_better=False,
                )
            )
        if workload == "lr":
            rows.append(
                Row(
                    "  same, until the background plots are written too",
                    unit,
                    theirs["added_ms_flushed"],
                    ours["added_ms_flushed"],
                    "(for information)",
                    higher_is_better=False,
                )
            )
    if "import" in only:
        rows.append(Row("import tracklet", "s", None, _import_time(), "<= 0.15 s", False))
        rows.append(
            Row(
                "import tracklet; tracklet.autolog()",
                "s",
                None,
                _import_time("import tracklet; tracklet.autolog()"),
                "<= 0.15 s",
                False,
            )
        )
    print_table("Autologging overhead (lower is better)", rows)


if __name__ == "__main__":
    main()
