"""Metrics in the SQL store: single points on the fast path, batches (with their params and
tags, all or nothing), columns, and history; statements in ``metrics`` and ``run_data``."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from itertools import groupby
from operator import attrgetter, itemgetter
from typing import Any

from tracklet import validation
from tracklet.entities import Metric, MetricHistory, Param, RunTag
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.store.base import MetricColumns, MetricPoints
from tracklet.store.sql import logged_models as model_queries
from tracklet.store.sql import metric_batches, metric_layout, pg_points
from tracklet.store.sql import metrics as metric_queries
from tracklet.store.sql import run_data as run_data_queries
from tracklet.store.sql import runs as run_queries
from tracklet.store.sql.store_base import SqlStoreBase

_logger = logging.getLogger(__name__)


class MetricSqlStore(SqlStoreBase):
    """``log_metric``, ``log_batch``, ``log_metric_columns`` and ``get_metric_history`` of
    :class:`~tracklet.store.sql.store.SqlStore`."""

    def log_metric(self, run_id: str, metric: Metric) -> None:
        if metric.model_id:
            # Model-linked points are also recorded against the model: the batch path does both.
            self.log_batch(run_id, metrics=[metric])
            return
        metric = _checked_metric(metric)
        row = self._append_point(metric_queries.point_params(run_id, metric))
        if row is not None and row[0] >= metric_layout.TAIL_FLUSH_POINTS:
            with self._writer.transaction() as db:
                metric_queries.move_tail(db, run_id, metric.key)
        if row is None:
            with self._reader() as db:
                run_queries.require_active(db, run_id)
            raise MlflowException(f"Run {run_id} could not be written", INVALID_PARAMETER_VALUE)

    def _append_point(self, params: dict[str, object]) -> tuple[int] | None:
        if self._one_statement_batches:  # PostgreSQL: beside other writers (see pg_points)
            with self._statements.connection() as db:
                return db.one(metric_queries.APPEND_POINT_GUARDED, params)  # type: ignore[no-any-return]
        writer = self._writer
        with writer.lock:
            return writer.db().one(metric_queries.APPEND_POINT_GUARDED, params)  # type: ignore[no-any-return]

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        series = linked = flat = None
        if metrics:
            if self._defers_wide_batches and metric_batches.is_wide(
                len(set(map(_KEY, metrics))), len(metrics)
            ):
                flat = metric_queries.flatten(metrics, _indexed_check)
            else:
                series = metric_queries.group_by_key(metrics, _indexed_check)
            if any(map(_MODEL_ID, metrics)):
                linked = [_checked_metric(m) for m in metrics if m.model_id]
        checked_params = [
            Param(*validation.validate_param(p.key, p.value, f"params[{i}]"))
            for i, p in enumerate(params)
        ]
        if checked_params:
            validation.validate_param_keys_unique([p.key for p in checked_params])
        checked_tags = [
            RunTag(*validation.validate_tag(t.key, t.value, f"tags[{i}]"))
            for i, t in enumerate(tags)
        ]
        if (
            self._one_statement_batches
            and (series or flat)
            and not (checked_params or checked_tags or linked)
        ):
            self._write_points(run_id, series, flat)
            return
        wide, key_list = self._wide_row(run_id, flat) if flat else (None, None)
        with self._writer.transaction() as db:
            run_queries.require_active(db, run_id)
            if checked_params:
                run_data_queries.write_params(db, run_id, checked_params)
            if series:
                metric_queries.write_series(db, run_id, series, self._tail_sizes)
            if wide:
                metric_batches.write(db, wide)
            if linked:
                model_queries.write_metrics(db, run_id, linked)
            if checked_tags:
                run_data_queries.write_tags(db, run_id, checked_tags)
        if flat:
            self._wide_written(key_list, len(flat[0]))

    def log_metric_columns(self, run_id: str, series: Mapping[str, MetricColumns]) -> None:
        self._log_columns(run_id, series)

    def _log_columns(
        self,
        run_id: str,
        series: Mapping[str, MetricColumns],
        spans: pg_points.Spans | None = None,
    ) -> None:
        """``log_metric_columns``; ``spans``: the flat points the series were sliced from and
        each key's span in them (PostgreSQL packs them once, see ``pg_points.write_series``)."""
        if not validation.known_valid_keys.issuperset(series):
            for key in series:
                validation.validate_key(key, "metric key")
        # C-level passes over the columns: a step of a hundred keys has a hundred of each.
        columns = list(series.values())
        counts = list(map(len, map(_FIRST, columns)))
        if counts != list(map(len, map(_SECOND, columns))) or counts != list(
            map(len, map(_THIRD, columns))
        ):
            for key, (steps, timestamps, values) in series.items():
                if not len(steps) == len(timestamps) == len(values):
                    raise MlflowException(
                        f"Metric '{key}': steps, timestamps and values differ in length",
                        INVALID_PARAMETER_VALUE,
                    )
        points = sum(counts)
        flat = None
        if self._defers_wide_batches and metric_batches.is_wide(len(series), points):
            flat = metric_queries.flatten_series(series, points)
        if self._one_statement_batches and points:
            self._write_points(run_id, None if flat else series, flat, spans)
            return
        wide, key_list = self._wide_row(run_id, flat) if flat else (None, None)
        with self._writer.transaction() as db:
            run_queries.require_active(db, run_id)
            if wide:
                metric_batches.write(db, wide)
            else:
                metric_queries.write_series(db, run_id, series, self._tail_sizes)
        if flat:
            self._wide_written(key_list, points)

    def _write_points(
        self,
        run_id: str,
        series: Mapping[str, MetricColumns] | None,
        flat: metric_layout.FlatPoints | None,
        spans: pg_points.Spans | None = None,
    ) -> None:
        """PostgreSQL: points in one statement on a pooled connection (see ``pg_points``)."""
        full_tails: list[str] | None = []
        written = True
        wide, key_list = self._wide_row(run_id, flat) if flat else (None, None)
        with self._statements.connection() as db:
            if wide:
                written = pg_points.write_wide(db, wide)
            elif series:
                full_tails = pg_points.write_series(
                    db, run_id, series, self._tail_sizes, spans=spans
                )
                written = full_tails is not None
        if not written:
            with self._reader() as db:
                run_queries.require_active(db, run_id)
            raise MlflowException(f"Run {run_id} could not be written", INVALID_PARAMETER_VALUE)
        if full_tails:
            with self._statements.connection() as db:
                pg_points.move_tails(db, run_id, full_tails)
        if flat:
            self._wide_written(key_list, len(flat[0]))

    def _wide_row(
        self, run_id: str, points: metric_layout.FlatPoints
    ) -> tuple[dict[str, Any], str | None]:
        """The ``metric_batches`` row of a wide batch, and its key list if it is to be
        registered once the row is written (see ``metric_batches``)."""
        return metric_batches.row(run_id, points, self._key_sets)

    def _wide_written(self, key_list: str | None, points: int) -> None:
        """After a wide batch's row committed: register its key list if due (in a transaction
        of its own), and count its points (a fold may follow)."""
        if key_list is not None:
            self._register_key_set(key_list)
        self._deferred_some(points)

    def _register_key_set(self, key_list: str) -> None:
        try:
            if self._one_statement_batches:
                with self._statements.connection() as db:
                    key_set_id = metric_batches.register_key_set(db, key_list)
            else:
                with self._writer.transaction() as db:
                    key_set_id = metric_batches.register_key_set(db, key_list)
        except Exception as error:  # the batch is written: its keys stay inline a while longer
            _logger.warning("wide metric batches: a key list was not registered: %s", error)
            return
        self._key_sets.registered(key_list, key_set_id)

    def log_metric_points(self, run_id: str, points: MetricPoints) -> None:
        keys, steps, timestamps, values = points
        if not len(keys) == len(steps) == len(timestamps) == len(values):
            raise MlflowException(
                "Metric points: keys, steps, timestamps and values differ in length",
                INVALID_PARAMETER_VALUE,
            )
        runs = _runs_of_keys(points)
        if not (
            self._defers_wide_batches
            and metric_batches.is_wide(len(set(keys)) if runs is None else len(runs[0]), len(keys))
        ):
            if runs is None:
                self._log_columns(run_id, _grouped(points))
            else:
                self._log_columns(run_id, runs[0], (points, runs[1]))
            return
        if not validation.known_valid_keys.issuperset(keys):
            for key in keys:
                validation.validate_key(key, "metric key")
        flat = (list(keys), list(steps), list(timestamps), list(values))
        wide, key_list = self._wide_row(run_id, flat)
        with self._writer.transaction() as db:
            run_queries.require_active(db, run_id)
            metric_batches.write(db, wide)
        self._wide_written(key_list, len(keys))

    def get_metric_history(self, run_id: str, metric_key: str) -> MetricHistory:
        with self._reader() as db:
            history = metric_queries.read_history(db, run_id, metric_key)
            if history is None:
                if run_queries.stage_of(db, run_id) is None:
                    raise run_queries.not_found(run_id)
                return MetricHistory(metric_key, [], [], [], run_id)
        return history


def _grouped(points: MetricPoints) -> Mapping[str, MetricColumns]:
    series: dict[str, tuple[list[int], list[int], list[float]]] = {}
    for key, step, timestamp, value in zip(*points, strict=True):
        columns = series.get(key)
        if columns is None:
            columns = series[key] = ([], [], [])
        columns[0].append(step)
        columns[1].append(timestamp)
        columns[2].append(value)
    return series


def _runs_of_keys(
    points: MetricPoints,
) -> tuple[dict[str, MetricColumns], dict[str, tuple[int, int]]] | None:
    """Columns per key as slices when the keys come in runs, one run per key (a client logging
    key after key: ``log_batch`` of 10 keys x 100 steps), and each key's span in the points;
    found by C-level passes (``groupby``, slices), not a dict lookup and three appends per point
    as ``_grouped``. None otherwise (the keys interleaved, a key in two runs, columns that are
    not lists)."""
    keys, steps, timestamps, values = points
    if (
        len(keys) < 2
        or keys[0] != keys[1]  # interleaved keys (a step of many keys at a time): _grouped
        or type(steps) is not list
        or type(timestamps) is not list
        or type(values) is not list
    ):
        return None
    series: dict[str, MetricColumns] = {}
    spans: dict[str, tuple[int, int]] = {}
    start = 0
    for key, run in groupby(keys):
        end = start + len(list(run))
        if key in series:
            return None
        series[key] = (steps[start:end], timestamps[start:end], values[start:end])
        spans[key] = (start, end)
        start = end
    return series, spans


_KEY = attrgetter("key")
_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)
_MODEL_ID = attrgetter("model_id")


def _indexed_check(metric: Metric, index: int) -> Metric:
    return _checked_metric(metric, f"metrics[{index}]")


def _checked_metric(metric: Metric, path: str = "") -> Metric:
    key = validation.validate_key(metric.key, f"{path}.key" if path else "key")
    value = validation.validate_metric_value(key, metric.value, metric.timestamp, path)
    timestamp = validation.validate_timestamp(key, metric.timestamp, path)
    step = validation.validate_step(key, metric.step, path)
    if (
        value is metric.value
        and timestamp is metric.timestamp
        and step is metric.step
        and key is metric.key
    ):
        return metric
    return Metric(
        key,
        value,
        timestamp,
        step,
        metric.dataset_name,
        metric.dataset_digest,
        metric.model_id,
        metric.run_id,
    )
