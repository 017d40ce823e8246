"""Issue 18 item 6: every page boundary works with NaN, +inf and -inf sort keys (a page ending
on +inf once answered 500: the next-page token could not carry the key), and the order is
MLflow 3.17.2's for the same runs."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import tracklet
from tracklet import MlflowClient

VALUES = {
    "pinf": math.inf,
    "one": 1.0,
    "ninf": -math.inf,
    "nan": math.nan,
    "two": 2.0,
    "neg": -3.5,
}
ORDERS = ["metrics.a DESC", "metrics.a ASC"]


def _log(module, client) -> None:
    for name, value in VALUES.items():
        with module.start_run(run_name=name):
            module.log_metric("a", value)
    with module.start_run(run_name="none"):
        pass


def _paged_names(client, order: str, page_size: int) -> list[str]:
    names: list[str] = []
    token = None
    while True:
        page = client.search_runs(["0"], order_by=[order], max_results=page_size, page_token=token)
        names += [run.info.run_name for run in page]
        token = page.token
        if not token:
            return names


@pytest.fixture(scope="module")
def mlflow_orders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """The oracle: the same runs in MLflow 3.17.2, each order read whole."""
    import mlflow

    uri = f"sqlite:///{tmp_path_factory.mktemp('oracle') / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        client = mlflow.MlflowClient(uri)
        _log(mlflow, client)
        return {order: _paged_names(client, order, 1000) for order in ORDERS}
    finally:
        mlflow.set_tracking_uri(previous)


@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_pages_over_nonfinite_keys_match_mlflow(
    tracking_uri: str, tmp_path: Path, mlflow_orders: dict[str, list[str]], page_size: int
) -> None:
    client = MlflowClient(tracking_uri)
    _log(tracklet, client)
    for order in ORDERS:
        assert _paged_names(client, order, page_size) == mlflow_orders[order], order
