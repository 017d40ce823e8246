"""Experiments in the SQL store: input checks and transactions; statements in ``experiments``."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from tracklet import validation
from tracklet.entities import Experiment, ExperimentTag, LifecycleStage, PagedList, ViewType
from tracklet.store.sql import experiments as experiment_queries
from tracklet.store.sql import search as search_queries
from tracklet.store.sql.store_base import SqlStoreBase, now_ms


class ExperimentSqlStore(SqlStoreBase):
    """The ``ExperimentStore`` methods of :class:`~tracklet.store.sql.store.SqlStore`."""

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
                    db, name, artifact_location, checked, self.artifact_root, now_ms()
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
                experiment_queries.rename(db, parsed, new_name, now_ms())
        except sa.exc.IntegrityError:
            raise experiment_queries.already_exists(new_name) from None

    def delete_experiment(self, experiment_id: str) -> None:
        parsed = validation.parse_experiment_id(experiment_id)
        now = now_ms()
        with self._writer.transaction() as db:
            experiment_queries.set_stage(db, parsed, LifecycleStage.DELETED, now, now)

    def restore_experiment(self, experiment_id: str) -> None:
        parsed = validation.parse_experiment_id(experiment_id)
        with self._writer.transaction() as db:
            experiment_queries.set_stage(db, parsed, LifecycleStage.ACTIVE, now_ms(), None)

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        parsed = validation.parse_experiment_id(experiment_id)
        key, value = validation.validate_experiment_tag(tag.key, tag.value)
        with self._writer.transaction() as db:
            experiment_queries.set_tag(db, parsed, key, value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        parsed = validation.parse_experiment_id(experiment_id)
        with self._writer.transaction() as db:
            experiment_queries.delete_tag(db, parsed, key)
