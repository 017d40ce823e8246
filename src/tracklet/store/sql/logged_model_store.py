"""Logged models in the SQL store; statements in ``logged_models`` and ``logged_model_search``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from tracklet import validation
from tracklet.entities import (
    LoggedModel,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    PagedList,
)
from tracklet.store.sql import experiments as experiment_queries
from tracklet.store.sql import logged_model_search as model_search
from tracklet.store.sql import logged_models as model_queries
from tracklet.store.sql import runs as run_queries
from tracklet.store.sql.run_names import random_run_name
from tracklet.store.sql.store_base import ARTIFACTS_FOLDER, SqlStoreBase, now_ms
from tracklet.uri import append_to_uri_path


class LoggedModelSqlStore(SqlStoreBase):
    """The ``LoggedModelStore`` methods of :class:`~tracklet.store.sql.store.SqlStore`."""

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
                now_ms(),
            )
            return model_queries.to_entities(db, [model_queries.require(db, model_id)])[0]

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        with self._reader() as db:
            row = model_queries.require(db, model_id, allow_deleted=allow_deleted)
            return model_queries.to_entities(db, [row])[0]

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        status = LoggedModelStatus.from_any(status)
        with self._writer.transaction() as db:
            model_queries.set_status(db, model_id, status, now_ms())
            return model_queries.to_entities(db, [model_queries.require(db, model_id)])[0]

    def delete_logged_model(self, model_id: str) -> None:
        with self._writer.transaction() as db:
            model_queries.soft_delete(db, model_id, now_ms())

    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        checked = [LoggedModelTag(*validation.validate_tag(t.key, t.value)) for t in tags]
        with self._writer.transaction() as db:
            model_queries.require(db, model_id)
            model_queries.write_tags(db, model_id, checked)
            model_queries.touch(db, model_id, now_ms())

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
            model_queries.touch(db, model_id, now_ms())

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


def _new_model_id() -> str:
    return f"m-{uuid.uuid4().hex}"
