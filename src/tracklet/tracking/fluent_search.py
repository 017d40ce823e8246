"""``tracklet.search_runs``: MLflow's fluent run search, as a pandas DataFrame or a list of runs
(and ``tracklet.search_experiments``, the fluent experiment search).

The DataFrame has MLflow's columns and types: ``run_id, experiment_id, status, artifact_uri,
start_time, end_time`` (UTC datetimes), then ``metrics.*`` (NaN where a run lacks the metric),
``params.*`` and ``tags.*`` (None where missing). It is built column by column, with the
timestamps converted in one vectorised call, because a row-at-a-time build (MLflow's) costs
more than the search itself for tens of thousands of runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal, Protocol, TypeVar

from tracklet.entities import Experiment, ViewType
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.store.run_columns import RunColumns
from tracklet.tracking.client import MlflowClient
from tracklet.tracking.context import current_client, current_experiment_id

_logger = logging.getLogger(__name__)

SEARCH_MAX_RESULTS_PANDAS = 100000
NUM_RUNS_PER_PAGE_PANDAS = 10000  # MLflow's page size for the fluent search

OutputFormat = Literal["pandas", "list", "polars"]


def search_experiments(
    view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[Experiment]:
    """Search experiments, following page tokens until ``max_results`` or the last page.

    Args:
        view_type: ``ViewType.ACTIVE_ONLY``, ``DELETED_ONLY`` or ``ALL``.
        max_results: The most experiments returned; every match if None.
        filter_string: A filter on ``name``, ``creation_time``, ``last_update_time`` and
            ``tags.<key>``, e.g. ``"name LIKE 'churn%'"``.
        order_by: Order clauses such as ``["name ASC"]``; by default the newest first.

    Returns:
        A list of Experiment.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a bad filter or order.

    Example::

        tracklet.search_experiments(filter_string="tags.team = 'growth'")
    """
    client = current_client()
    results: list[Experiment] = []
    token: str | None = None
    while True:
        page_size = 1000 if max_results is None else min(1000, max_results - len(results))
        page = client.search_experiments(view_type, page_size, filter_string, order_by, token)
        results.extend(page)
        token = page.token
        if not token or (max_results is not None and len(results) >= max_results):
            return results


def search_runs(
    experiment_ids: list[str] | None = None,
    filter_string: str = "",
    run_view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int = SEARCH_MAX_RESULTS_PANDAS,
    order_by: list[str] | None = None,
    output_format: OutputFormat = "pandas",
    search_all_experiments: bool = False,
    experiment_names: list[str] | None = None,
) -> Any:
    """Search runs, following page tokens, as MLflow's ``mlflow.search_runs`` does.

    Args:
        experiment_ids: experiments to search. With neither ids nor names, the active
            experiment (or every active experiment with ``search_all_experiments``).
        filter_string: e.g. ``"tags.environment = 'production' AND metrics.accuracy > 0.95"``.
        run_view_type: ViewType.ACTIVE_ONLY, DELETED_ONLY or ALL.
        max_results: the most runs returned (100,000 by default).
        order_by: e.g. ``["metrics.accuracy DESC"]``.
        output_format: ``"pandas"`` (a DataFrame), ``"list"`` (Run objects) or ``"polars"``.
        search_all_experiments: search every active experiment when no ids or names are given.
        experiment_names: experiments to search, by name (unknown names are skipped).

    Returns:
        A pandas (or polars) DataFrame with one row per run, or a list of Run.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for ids and names together, or a bad filter,
            order or ``max_results``.
    """
    no_ids = not experiment_ids
    no_names = not experiment_names
    if not no_ids and not no_names:
        raise MlflowException(
            "Only experiment_ids or experiment_names can be used, but not both",
            INVALID_PARAMETER_VALUE,
        )
    if output_format not in ("pandas", "list", "polars"):
        raise ValueError(
            f"Unsupported output format: {output_format}. Supported string values are "
            "'pandas', 'list' or 'polars'"
        )
    client = current_client()
    ids: list[str]
    if search_all_experiments and no_ids and no_names:
        ids = [e.experiment_id for e in search_experiments(view_type=ViewType.ACTIVE_ONLY)]
    elif no_ids and no_names:
        ids = [current_experiment_id()]
    elif experiment_names:
        ids = []
        for name in experiment_names:
            experiment = client.get_experiment_by_name(name) if name is not None else None
            if experiment is None:
                _logger.warning("Cannot retrieve experiment by name %s", name)
            else:
                ids.append(experiment.experiment_id)
    else:
        ids = [str(e) for e in experiment_ids or []]

    if output_format == "list":
        pages = _pages(
            lambda size, token: client.search_runs(
                ids, filter_string, run_view_type, size, order_by, token
            ),
            max_results if ids else 0,
        )
        return [run for page in pages for run in page]
    columns = _search_columns(client, ids, filter_string, run_view_type, max_results, order_by)
    if output_format == "polars":
        return _polars(columns)
    return _pandas(columns)


_TIMES = ("start_time", "end_time")


def _search_columns(
    client: MlflowClient,
    ids: list[str],
    filter_string: str,
    run_view_type: int,
    max_results: int,
    order_by: list[str] | None,
) -> dict[str, list[Any]]:
    """The runs' DataFrame columns, page by page from the store with no Run objects (for
    tens of thousands of runs, building them costs more than the search itself)."""
    pages = _pages(
        lambda size, token: client.search_runs_columns(
            ids, filter_string or "", run_view_type, size, order_by, token
        ),
        max_results if ids else 0,
    )
    return RunColumns.concat(pages).named()


class _Page(Protocol):
    @property
    def token(self) -> str | None: ...

    def __len__(self) -> int: ...


_PageT = TypeVar("_PageT", bound=_Page)


def _pages(search: Callable[[int, str | None], _PageT], max_results: int) -> list[_PageT]:
    """``search(page size, token)``'s pages, in MLflow's fluent page size, until
    ``max_results`` runs or the last page."""
    pages: list[_PageT] = []
    found = 0
    token: str | None = None
    while found < max_results:
        page = search(min(NUM_RUNS_PER_PAGE_PANDAS, max_results - found), token)
        pages.append(page)
        found += len(page)
        token = page.token
        if not token:
            break
    return pages


def _pandas(columns: dict[str, list[Any]]) -> Any:
    import pandas as pd

    data: dict[str, Any] = dict(columns)
    for name in _TIMES:
        data[name] = _pandas_times(pd, columns[name])
    return pd.DataFrame(data)


def _pandas_times(pd: Any, millis: list[int | None]) -> Any:
    """UTC datetimes as MLflow's ``pd.to_datetime(ms, unit="ms", utc=True)`` per run gives them,
    converted at once (an all-missing column keeps MLflow's type too)."""
    if all(m is None for m in millis):
        return [pd.NaT] * len(millis)
    array = pd.array(millis, dtype="Int64")
    return pd.to_datetime(array, unit="ms", utc=True)


def _polars(columns: dict[str, list[Any]]) -> Any:
    try:
        import polars as pl
    except ImportError:
        raise MlflowException(
            "output_format='polars' needs the polars package: pip install polars",
            INVALID_PARAMETER_VALUE,
        ) from None
    series = []
    for name, values in columns.items():
        if name in _TIMES:
            millis = pl.Series(name, values, dtype=pl.Int64)
            series.append(pl.from_epoch(millis, time_unit="ms").dt.replace_time_zone("UTC"))
        elif name.startswith("metrics."):
            series.append(pl.Series(name, values, dtype=pl.Float64, nan_to_null=False))
        else:
            series.append(pl.Series(name, values, dtype=pl.String))
    return pl.DataFrame(series)
