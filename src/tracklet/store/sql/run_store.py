"""Runs in the SQL store: create, read, update, delete, search, and the single param and tag
writes; statements in ``runs``, ``run_data``, ``run_packs`` and ``search``."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Concatenate, ParamSpec, TypeVar

from tracklet import validation
from tracklet.entities import (
    LifecycleStage,
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
from tracklet.store.gc_pause import gc_paused
from tracklet.store.run_columns import RunColumns
from tracklet.store.sql import experiments as experiment_queries
from tracklet.store.sql import run_data as run_data_queries
from tracklet.store.sql import run_packs
from tracklet.store.sql import runs as run_queries
from tracklet.store.sql import search as search_queries
from tracklet.store.sql.compiled import Db
from tracklet.store.sql.run_names import random_run_name
from tracklet.store.sql.store_base import ARTIFACTS_FOLDER, SqlStoreBase, now_ms
from tracklet.uri import append_to_uri_path

_RUNNING = RunStatus.RUNNING.name
PageT = TypeVar("PageT")
P = ParamSpec("P")


class RunSqlStore(SqlStoreBase):
    """The ``RunStore`` methods and single param/tag writes of
    :class:`~tracklet.store.sql.store.SqlStore`."""

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
                    run_packs.pack_runs(db, [run_id], self._tail_sizes)
                return info
        # A single UPDATE ... RETURNING: atomic on its own, no transaction needed.
        with self._writer.lock:
            return run_queries.update_info(
                self._writer.db(), run_id, run_status, end_time, run_name
            )

    def delete_run(self, run_id: str) -> None:
        with self._writer.transaction() as db:
            run_queries.set_stage(db, run_id, LifecycleStage.DELETED, now_ms())

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
        page's runs that have no pack go to the repacker. Missing planner statistics are
        gathered first (see planner_stats)."""
        with self._reader() as db, gc_paused():
            self._planner_stats.ensure(db)
            page, unpacked = search(db, *args, **kwargs)
        if unpacked:
            self._repacker.submit(unpacked)
        return page

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
