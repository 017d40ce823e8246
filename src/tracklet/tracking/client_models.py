"""MlflowClient's logged-model methods (MLflow 3: models tracked independently of runs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracklet.entities import (
    LoggedModel,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    PagedList,
)
from tracklet.store.base import TrackingStore


class LoggedModelsClientMixin:
    """Logged-model methods of :class:`tracklet.MlflowClient`."""

    @property
    def _store(self) -> TrackingStore:
        raise NotImplementedError  # provided by MlflowClient

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a logged model in PENDING status."""
        return self._store.create_logged_model(
            str(experiment_id),
            name=name,
            source_run_id=source_run_id,
            tags=[LoggedModelTag(k, str(v)) for k, v in (tags or {}).items()],
            params=[LoggedModelParameter(k, str(v)) for k, v in (params or {}).items()],
            model_type=model_type,
        )

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus | str) -> LoggedModel:
        """Set a model's final status: READY, or FAILED."""
        return self._store.finalize_logged_model(model_id, LoggedModelStatus.from_any(status))

    def get_logged_model(self, model_id: str) -> LoggedModel:
        return self._store.get_logged_model(model_id)

    def delete_logged_model(self, model_id: str) -> None:
        self._store.delete_logged_model(model_id)

    def set_logged_model_tags(self, model_id: str, tags: dict[str, Any]) -> None:
        self._store.set_logged_model_tags(
            model_id, [LoggedModelTag(k, str(v)) for k, v in tags.items()]
        )

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._store.delete_logged_model_tag(model_id, key)

    def log_model_params(self, model_id: str, params: dict[str, Any]) -> None:
        self._store.log_logged_model_params(
            model_id, [LoggedModelParameter(k, str(v)) for k, v in params.items()]
        )

    def search_logged_models(
        self,
        experiment_ids: list[str],
        filter_string: str | None = None,
        datasets: list[dict[str, str]] | None = None,
        max_results: int | None = None,
        order_by: list[dict[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """One page of logged models; ``order_by`` items are ``{"field_name", "ascending"}``."""
        ids: Sequence[str] = [str(e) for e in experiment_ids]
        return self._store.search_logged_models(
            ids, filter_string, datasets, max_results, order_by, page_token
        )
