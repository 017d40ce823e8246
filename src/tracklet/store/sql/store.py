"""SqlStore: the TrackingStore on SQLite or PostgreSQL. It owns transactions and input checks;
the statements live in the per-resource modules beside it."""

from __future__ import annotations

import os
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa

from tracklet import env, validation
from tracklet.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    LifecycleStage,
    LoggedModel,
    LoggedModelInput,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    MetricHistory,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunStatus,
    RunTag,
    ViewType,
)
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.store.base import MetricColumns
from tracklet.store.gc_pause import gc_paused
from tracklet.store.run_columns import RunColumns
from tracklet.store.sql import experiments as experiment_queries
from tracklet.store.sql import inputs as input_queries
from tracklet.store.sql import logged_model_search as model_search
from tracklet.store.sql import logged_models as model_queries
from tracklet.store.sql import metrics as metric_queries
from tracklet.store.sql import run_data as run_data_queries
from tracklet.store.sql import run_packs
from tracklet.store.sql import runs as run_queries
from tracklet.store.sql import search as search_queries
from tracklet.store.sql.checkpoint import Checkpointer
from tracklet.store.sql.compiled import Db
from tracklet.store.sql.engine import (
    Writer,
    create_sql_engine,
    is_sqlite,
    normalize_db_uri,
    sqlite_path,
)
from tracklet.store.sql.fork_gate import GATE, keep_inherited
from tracklet.store.sql.repacker import Repacker
from tracklet.store.sql.run_names import random_run_name
from tracklet.store.sql.schema_version import ensure_schema
from tracklet.uri import append_to_uri_path

ARTIFACTS_FOLDER = "artifacts"
_RUNNING = RunStatus.RUNNING.name
PageT = TypeVar("PageT")
P = ParamSpec("P")
DEFAULT_ARTIFACT_DIR = "tracklet-artifacts"

_open_stores: weakref.WeakSet[SqlStore] = weakref.WeakSet()


def _now_ms() -> int:
    return int(time.time() * 1000)


def _local_artifact_root(db_uri: str) -> str:
    """Artifacts of a local SQLite store live beside the file; otherwise under the cwd."""
    if db_uri.startswith("sqlite:///"):
        path = db_uri[len("sqlite:///") :].partition("?")[0]
        return os.path.join(os.path.dirname(os.path.abspath(path)), DEFAULT_ARTIFACT_DIR)
    return os.path.abspath(DEFAULT_ARTIFACT_DIR)


class SqlStore:
    """Experiments, runs and run data in a SQL database (``sqlite:///`` or ``postgresql://``)."""

    def __init__(self, tracking_uri: str, default_artifact_root: str | None = None) -> None:
        self._tracking_uri = tracking_uri
        db_uri = normalize_db_uri(tracking_uri)
        self.artifact_root = default_artifact_root or _local_artifact_root(db_uri)
        self._engine = create_sql_engine(db_uri)
        with GATE:
            ensure_schema(self._engine, self.artifact_root)
        self._writer = Writer(self._engine)
        self._repacker = Repacker(self._writer)
        self._checkpointer = (
            Checkpointer(sqlite_path(self._engine), env.TRACKLET_SQLITE_BUSY_TIMEOUT.get())
            if is_sqlite(self._engine)
            else None
        )
        if self._checkpointer is not None:
            self._checkpointer.ensure_started()
        self._dialect_name = self._engine.dialect.name
        self._tail_sizes: dict[tuple[str, str], int] = {}
        _open_stores.add(self)

    @property
    def tracking_uri(self) -> str:
        return self._tracking_uri

    @property
    def engine(self) -> sa.engine.Engine:
        return self._engine

    def close(self) -> None:
        self._repacker.stop()
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer.checkpoint_if_needed()
        self._writer.close()
        with GATE:
            self._engine.dispose()

    @contextmanager
    def _reader(self) -> Iterator[Db]:
        """A pooled connection for reads; WAL lets it run beside the writer."""
        with GATE:
            raw = self._engine.raw_connection()
            try:
                yield Db(raw.driver_connection, self._dialect_name)
            finally:
                raw.close()

    def _after_fork(self) -> None:
        self._writer.forget_after_fork()
        self._repacker.forget_after_fork()
        if self._checkpointer is not None:
            self._checkpointer.forget_after_fork()
            self._checkpointer.ensure_started()
        # The parent's pooled connections stay open and untouched; the child opens its own.
        keep_inherited(self._engine.pool)
        self._engine.dispose(close=False)

    # ----------------------------------------------------------------- experiments

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[ExperimentTag] = (),
    ) -> str:
        name = validation.validate_experiment_name(name)
        validation.validate_artifact_location(artifact_location)
        checked = [ExperimentTag(*validation.validate_experiment_tag(t.key, t.value)) for t in tags]
        try:
            with self._writer.transaction() as db:
                experiment_id = experiment_queries.insert(
                    db, name, artifact_location, checked, self.artifact_root, _now_ms()
                )
        except sa.exc.IntegrityError:
            # Another process created the same name between our check and our insert.
            raise experiment_queries.already_exists(name) from None
        return str(experiment_id)

    def get_experiment(self, experiment_id: str) -> Experiment:
        parsed = validation.parse_experiment_id(experiment_id)
        with self._reader() as db:
            experiment = experiment_queries.get(db, parsed)
        if experiment is None:
            raise experiment_queries.not_found(experiment_id)
        return experiment

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with self._reader() as db:
            return experiment_queries.get_by_name(db, name)

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        with self._reader() as db:
            return search_queries.search_experiments(
                db, view_type, max_results, filter_string, order_by, page_token
            )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        parsed = validation.parse_experiment_id(experiment_id)
        new_name = validation.validate_experiment_name(new_name)
        try:
            with self._writer.transaction() as db:
                experiment_queries.rename(db, parsed, new_name, _now_ms())
        except sa.exc.IntegrityError:
            raise experiment_queries.already_exists(new_name) from None

    def delete_experiment(self, experiment_id: str) -> None:
        parsed = validation.parse_experiment_id(experiment_id)
        now = _now_ms()
        with self._writer.transaction() as db:
            experiment_queries.set_stage(db, parsed, LifecycleStage.DELETED, now, now)

    def restore_experiment(self, experiment_id: str) -> None:
        parsed = validation.parse_experiment_id(experiment_id)
        with self._writer.transaction() as db:
            experiment_queries.set_stage(db, parsed, LifecycleStage.ACTIVE, _now_ms(), None)

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        parsed = validation.parse_experiment_id(experiment_id)
        key, value = validation.validate_experiment_tag(tag.key, tag.value)
        with self._writer.transaction() as db:
            experiment_queries.set_tag(db, parsed, key, value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        parsed = validation.parse_experiment_id(experiment_id)
        with self._writer.transaction() as db:
            experiment_queries.delete_tag(db, parsed, key)

    # ----------------------------------------------------------------- runs

    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag],
        run_name: str | None,
    ) -> Run:
        parsed = validation.parse_experiment_id(experiment_id)
        run_tags = [RunTag(*validation.validate_tag(t.key, t.value)) for t in tags]
        name_tag = next(
            (t.value for t in reversed(run_tags) if t.key == run_queries.RUN_NAME_TAG), None
        )
        if run_name and name_tag and run_name != name_tag:
            raise MlflowException(
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
                f"different values (run_name='{run_name}', mlflow.runName='{name_tag}').",
                INVALID_PARAMETER_VALUE,
            )
        run_name = run_name or name_tag or random_run_name()
        if name_tag is None:
            run_tags.append(RunTag(run_queries.RUN_NAME_TAG, run_name))
        run_tags = list({t.key: t for t in run_tags}.values())
        run_id = uuid.uuid4().hex
        with self._writer.transaction() as db:
            location = experiment_queries.require_active(db, parsed)
            artifact_uri = append_to_uri_path(str(location), run_id, ARTIFACTS_FOLDER)
            run_queries.insert(
                db, run_id, parsed, user_id, start_time, run_name, artifact_uri, run_tags
            )
        info = RunInfo(
            run_id=run_id,
            experiment_id=str(parsed),
            user_id=user_id,
            status=_RUNNING,
            start_time=start_time,
            end_time=None,
            lifecycle_stage=LifecycleStage.ACTIVE,
            artifact_uri=artifact_uri,
            run_name=run_name,
        )
        return Run(info, RunData(tags={t.key: t.value for t in run_tags}), RunInputs())

    def get_run(self, run_id: str) -> Run:
        with self._reader() as db:
            return run_queries.get_run(db, run_id)

    def update_run_info(
        self,
        run_id: str,
        run_status: str | None,
        end_time: int | None,
        run_name: str | None,
    ) -> RunInfo:
        ends = run_status is not None and RunStatus.is_terminated(RunStatus.from_string(run_status))
        if run_name or ends:
            with self._writer.transaction() as db:
                if ends:
                    run_packs.lock_runs(db, [run_id])
                info = run_queries.update_info(db, run_id, run_status, end_time, run_name)
                if ends:
                    # Searches then read the ended run as one row (see run_packs).
                    run_packs.pack_runs(db, [run_id])
                return info
        # A single UPDATE ... RETURNING: atomic on its own, no transaction needed.
        with self._writer.lock:
            return run_queries.update_info(
                self._writer.db(), run_id, run_status, end_time, run_name
            )

    def delete_run(self, run_id: str) -> None:
        with self._writer.transaction() as db:
            run_queries.set_stage(db, run_id, LifecycleStage.DELETED, _now_ms())

    def restore_run(self, run_id: str) -> None:
        with self._writer.transaction() as db:
            run_queries.set_stage(db, run_id, LifecycleStage.ACTIVE, None)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        return self._search_page(
            search_queries.search_runs,
            experiment_ids,
            filter_string,
            run_view_type,
            max_results,
            order_by,
            page_token,
        )

    def search_runs_columns(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> RunColumns:
        return self._search_page(
            search_queries.search_runs_columns,
            experiment_ids,
            filter_string,
            run_view_type,
            max_results,
            order_by,
            page_token,
        )

    def _search_page(
        self,
        search: Callable[Concatenate[Db, P], tuple[PageT, list[str]]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> PageT:
        """One page of a run search, built with the collector paused (see gc_pause); the
        page's ended runs that have no pack go to the repacker."""
        with self._reader() as db, gc_paused():
            page, unpacked = search(db, *args, **kwargs)
        if unpacked:
            self._repacker.submit(unpacked)
        return page

    # ----------------------------------------------------------------- run data

    def log_metric(self, run_id: str, metric: Metric) -> None:
        if metric.model_id:
            # Model-linked points are also recorded against the model: the batch path does both.
            self.log_batch(run_id, metrics=[metric])
            return
        metric = _checked_metric(metric)
        row = self._append_point(metric_queries.point_params(run_id, metric))
        if row is not None and row[0] >= metric_queries.TAIL_FLUSH_POINTS:
            with self._writer.transaction() as db:
                metric_queries.move_tail(db, run_id, metric.key)
        if row is None:
            with self._reader() as db:
                run_queries.require_active(db, run_id)
            raise MlflowException(f"Run {run_id} could not be written", INVALID_PARAMETER_VALUE)

    def _append_point(self, params: dict[str, object]) -> tuple[int] | None:
        writer = self._writer
        with writer.lock:
            return writer.db().one(metric_queries.APPEND_POINT_GUARDED, params)  # type: ignore[no-any-return]

    def log_param(self, run_id: str, param: Param) -> None:
        key, value = validation.validate_param(param.key, param.value)
        writer = self._writer
        with writer.lock:
            rowcount = writer.db().rowcount(
                run_data_queries.INSERT_PARAM_GUARDED,
                {"run_uuid": run_id, "key": key, "value": value},
            )
        if rowcount != 1:
            with self._reader() as db:
                run_data_queries.explain_param_not_written(db, run_id, Param(key, value))

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        key, value = validation.validate_tag(tag.key, tag.value)
        if key == run_queries.RUN_NAME_TAG:
            with self._writer.transaction() as db:
                run_queries.require_active(db, run_id)
                run_data_queries.write_tags(db, run_id, [RunTag(key, value)])
            return
        writer = self._writer
        with writer.lock:
            rowcount = writer.db().rowcount(
                run_data_queries.UPSERT_TAG_GUARDED,
                {"run_uuid": run_id, "key": key, "value": value},
            )
        if rowcount != 1:
            with self._reader() as db:
                run_queries.require_active(db, run_id)

    def delete_tag(self, run_id: str, key: str) -> None:
        with self._writer.transaction() as db:
            run_queries.delete_tag(db, run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        series = linked = None
        if metrics:
            series = metric_queries.group_by_key(
                metrics, lambda m, i: _checked_metric(m, f"metrics[{i}]")
            )
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
        with self._writer.transaction() as db:
            run_queries.require_active(db, run_id)
            if checked_params:
                run_data_queries.write_params(db, run_id, checked_params)
            if series:
                metric_queries.write_series(db, run_id, series, self._tail_sizes)
            if linked:
                model_queries.write_metrics(db, run_id, linked)
            if checked_tags:
                run_data_queries.write_tags(db, run_id, checked_tags)

    def log_metric_columns(self, run_id: str, series: Mapping[str, MetricColumns]) -> None:
        for key, (steps, timestamps, values) in series.items():
            validation.validate_key(key, "metric key")
            if not len(steps) == len(timestamps) == len(values):
                raise MlflowException(
                    f"Metric '{key}': steps, timestamps and values differ in length",
                    INVALID_PARAMETER_VALUE,
                )
        with self._writer.transaction() as db:
            run_queries.require_active(db, run_id)
            metric_queries.write_series(db, run_id, series, self._tail_sizes)

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[LoggedModelInput] = (),
    ) -> None:
        for dataset_input in datasets:
            ds = dataset_input.dataset
            validation.validate_dataset(ds.name, ds.digest, ds.source, ds.schema, ds.profile)
            for tag in dataset_input.tags:
                validation.validate_input_tag(tag.key, tag.value)
        with self._writer.transaction() as db:
            run_queries.require_active(db, run_id)
            input_queries.write_dataset_inputs(db, run_id, datasets)
            input_queries.write_model_inputs(db, run_id, models)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        with self._writer.transaction() as db:
            run_queries.require_active(db, run_id)
            input_queries.write_model_outputs(db, run_id, models)

    # ----------------------------------------------------------------- logged models

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[LoggedModelParameter] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        parsed = validation.parse_experiment_id(experiment_id)
        name = model_queries.validate_name(name) if name is not None else random_run_name()
        checked_tags = [LoggedModelTag(*validation.validate_tag(t.key, t.value)) for t in tags]
        checked_params = [
            LoggedModelParameter(*validation.validate_param(p.key, p.value)) for p in params
        ]
        model_id = _new_model_id()
        with self._writer.transaction() as db:
            location = experiment_queries.require_active(db, parsed)
            if source_run_id is not None and run_queries.stage_of(db, source_run_id) is None:
                raise run_queries.not_found(source_run_id)
            artifact_location = append_to_uri_path(location, "models", model_id, ARTIFACTS_FOLDER)
            model_queries.insert(
                db,
                model_id,
                parsed,
                name,
                artifact_location,
                model_type,
                source_run_id,
                checked_tags,
                checked_params,
                _now_ms(),
            )
            return model_queries.to_entities(db, [model_queries.require(db, model_id)])[0]

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        with self._reader() as db:
            row = model_queries.require(db, model_id, allow_deleted=allow_deleted)
            return model_queries.to_entities(db, [row])[0]

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        status = LoggedModelStatus.from_any(status)
        with self._writer.transaction() as db:
            model_queries.set_status(db, model_id, status, _now_ms())
            return model_queries.to_entities(db, [model_queries.require(db, model_id)])[0]

    def delete_logged_model(self, model_id: str) -> None:
        with self._writer.transaction() as db:
            model_queries.soft_delete(db, model_id, _now_ms())

    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        checked = [LoggedModelTag(*validation.validate_tag(t.key, t.value)) for t in tags]
        with self._writer.transaction() as db:
            model_queries.require(db, model_id)
            model_queries.write_tags(db, model_id, checked)
            model_queries.touch(db, model_id, _now_ms())

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        with self._writer.transaction() as db:
            model_queries.delete_tag(db, model_id, key)

    def log_logged_model_params(
        self, model_id: str, params: Sequence[LoggedModelParameter]
    ) -> None:
        checked = [LoggedModelParameter(*validation.validate_param(p.key, p.value)) for p in params]
        with self._writer.transaction() as db:
            model_queries.require(db, model_id)
            model_queries.write_params(db, model_id, checked)
            model_queries.touch(db, model_id, _now_ms())

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, str | None]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, object]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        with self._reader() as db:
            return model_search.search_logged_models(
                db, experiment_ids, filter_string, datasets, max_results, order_by, page_token
            )

    def get_metric_history(self, run_id: str, metric_key: str) -> MetricHistory:
        with self._reader() as db:
            history = metric_queries.read_history(db, run_id, metric_key)
            if history is None:
                if run_queries.stage_of(db, run_id) is None:
                    raise run_queries.not_found(run_id)
                return MetricHistory(metric_key, [], [], [], run_id)
        return history


def _new_model_id() -> str:
    return f"m-{uuid.uuid4().hex}"


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


def _reset_stores_after_fork() -> None:
    for store in list(_open_stores):
        store._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_stores_after_fork)
