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
from tracklet.tracking import background


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
        """Create a logged model in PENDING status (``finalize_logged_model`` ends it).

        Args:
            experiment_id: The experiment the model belongs to.
            name: The model's name; a random name by default.
            source_run_id: The run that produced it, if any.
            tags: Model tags (values stringified).
            params: Model params (values stringified).
            model_type: A free-form type, e.g. ``"agent"``.

        Returns:
            The new LoggedModel, with its id and artifact location.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown experiment or run.
        """
        return self._store.create_logged_model(
            str(experiment_id),
            name=name,
            source_run_id=source_run_id,
            tags=[LoggedModelTag(k, str(v)) for k, v in (tags or {}).items()],
            params=[LoggedModelParameter(k, str(v)) for k, v in (params or {}).items()],
            model_type=model_type,
        )

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus | str) -> LoggedModel:
        """Set a logged model's final status.

        Args:
            model_id: The logged model's id.
            status: ``LoggedModelStatus.READY`` or ``FAILED`` (or their names).

        Returns:
            The updated LoggedModel.

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for another status; RESOURCE_DOES_NOT_EXIST
                for an unknown model.
        """
        return self._store.finalize_logged_model(model_id, LoggedModelStatus.from_any(status))

    def get_logged_model(self, model_id: str) -> LoggedModel:
        """Fetch a logged model with its tags, params and metrics.

        Args:
            model_id: The logged model's id.

        Returns:
            The LoggedModel.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST if there is no such model.
        """
        background.wait(model_id)  # autologging writes a model's files off the training thread
        return self._store.get_logged_model(model_id)

    def delete_logged_model(self, model_id: str) -> None:
        """Mark a logged model deleted; it is then neither fetched nor found by searches.

        Args:
            model_id: The logged model's id.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST if there is no such model.
        """
        self._store.delete_logged_model(model_id)

    def set_logged_model_tags(self, model_id: str, tags: dict[str, Any]) -> None:
        """Set tags on a logged model (replacing the previous values of those keys).

        Args:
            model_id: The logged model's id.
            tags: Tags to set; values stringified.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown model.
        """
        self._store.set_logged_model_tags(
            model_id, [LoggedModelTag(k, str(v)) for k, v in tags.items()]
        )

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Delete a tag of a logged model.

        Args:
            model_id: The logged model's id.
            key: The tag's name.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST if the model or the tag does not exist.
        """
        self._store.delete_logged_model_tag(model_id, key)

    def log_model_params(self, model_id: str, params: dict[str, Any]) -> None:
        """Log params of a logged model.

        Args:
            model_id: The logged model's id.
            params: Params to log; values stringified.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown model.
        """
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
        """Search logged models of some experiments, one page at a time.

        Args:
            experiment_ids: The experiments to search.
            filter_string: A filter on attributes, ``metrics.*``, ``params.*`` and ``tags.*``,
                e.g. ``"metrics.accuracy > 0.9 AND params.lr = '0.01'"``.
            datasets: Restrict metric filters and orders to these datasets, each
                ``{"dataset_name": ..., "dataset_digest": ...}`` (the digest optional).
            max_results: The most models in the page.
            order_by: Orders, each ``{"field_name": "metrics.accuracy", "ascending": False}``
                (optionally with ``dataset_name``/``dataset_digest``).
            page_token: The ``token`` of the previous page, to read the next one.

        Returns:
            A PagedList of LoggedModel whose ``token`` reads the next page (None on the last).

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for a bad filter, order or page token.
        """
        ids: Sequence[str] = [str(e) for e in experiment_ids]
        background.wait()
        return self._store.search_logged_models(
            ids, filter_string, datasets, max_results, order_by, page_token
        )
