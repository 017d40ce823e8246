"""MlflowClient's experiment methods: create, read, search, rename, delete and restore, tags."""

from __future__ import annotations

from typing import Any

from tracklet.entities import Experiment, ExperimentTag, PagedList, ViewType
from tracklet.store.base import TrackingStore

SEARCH_MAX_RESULTS_DEFAULT = 1000


class ExperimentsClientMixin:
    """Experiment methods of :class:`tracklet.MlflowClient`."""

    @property
    def _store(self) -> TrackingStore:
        raise NotImplementedError  # provided by MlflowClient

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: dict[str, Any] | None = None,
    ) -> str:
        """Create an experiment.

        Args:
            name: The experiment's name, unique among all experiments (deleted ones included).
            artifact_location: Where its runs store artifacts; by default under the store's
                artifact root.
            tags: Experiment tags; values are stringified.

        Returns:
            The new experiment's id.

        Raises:
            MlflowException: RESOURCE_ALREADY_EXISTS if an experiment has this name,
                INVALID_PARAMETER_VALUE for an empty name or a bad location.

        Example::

            experiment_id = client.create_experiment("churn", tags={"team": "growth"})
        """
        experiment_tags = [ExperimentTag(k, str(v)) for k, v in (tags or {}).items()]
        return self._store.create_experiment(name, artifact_location, experiment_tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Fetch an experiment by id.

        Args:
            experiment_id: The experiment's id.

        Returns:
            The Experiment (active or deleted).

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST if there is no such experiment.
        """
        return self._store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """Fetch an experiment by name.

        Args:
            name: The experiment's name (case-sensitive).

        Returns:
            The Experiment (active or deleted), or None if no experiment has this name.
        """
        return self._store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """Search experiments, one page at a time.

        Args:
            view_type: ``ViewType.ACTIVE_ONLY``, ``DELETED_ONLY`` or ``ALL``.
            max_results: The most experiments in the page (at most 50,000).
            filter_string: A filter on ``name``, ``creation_time``, ``last_update_time`` and
                ``tags.<key>``, e.g. ``"name LIKE 'churn%' AND tags.team = 'growth'"``.
            order_by: Order clauses such as ``["last_update_time DESC"]``; by default the
                newest first.
            page_token: The ``token`` of the previous page, to read the next one.

        Returns:
            A PagedList of Experiment whose ``token`` reads the next page (None on the last).

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for a bad filter, order, page token or
                ``max_results``.
        """
        return self._store.search_experiments(
            view_type=view_type,
            max_results=max_results,
            filter_string=filter_string,
            order_by=order_by,
            page_token=page_token,
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an active experiment.

        Args:
            experiment_id: The experiment's id.
            new_name: Its new name, unused by any other experiment.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown id, INVALID_STATE for a
                deleted experiment, RESOURCE_ALREADY_EXISTS if the name is taken.
        """
        self._store.rename_experiment(str(experiment_id), new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        """Mark an experiment and its runs deleted (``restore_experiment`` undoes it).

        Args:
            experiment_id: The experiment's id.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown id; INVALID_PARAMETER_VALUE
                for the Default experiment ("0"), which cannot be deleted.
        """
        self._store.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        """Restore a deleted experiment and the runs deleted with it.

        Args:
            experiment_id: The experiment's id.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown id.
        """
        self._store.restore_experiment(str(experiment_id))

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        """Set a tag on an experiment (replacing the tag's previous value).

        Args:
            experiment_id: The experiment's id.
            key: The tag's name.
            value: The tag's value; stringified.

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for a bad key or an over-long value;
                RESOURCE_DOES_NOT_EXIST for an unknown experiment.
        """
        self._store.set_experiment_tag(str(experiment_id), ExperimentTag(key, str(value)))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Delete a tag of an experiment.

        Args:
            experiment_id: The experiment's id.
            key: The tag's name.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST if the experiment or the tag does not
                exist.
        """
        self._store.delete_experiment_tag(str(experiment_id), key)
