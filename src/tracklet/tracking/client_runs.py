"""MlflowClient's run methods: create, read, update, end, delete and restore, search."""

from __future__ import annotations

import time
from typing import Any

from tracklet.entities import PagedList, Run, RunInfo, RunStatus, RunTag, ViewType
from tracklet.store.base import TrackingStore
from tracklet.store.run_columns import RunColumns
from tracklet.tracking import background
from tracklet.tracking.async_logging import flush_store
from tracklet.tracking.client_experiments import SEARCH_MAX_RESULTS_DEFAULT
from tracklet.tracking.system_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_USER


def _now_ms() -> int:
    return int(time.time() * 1000)


class RunsClientMixin:
    """Run methods of :class:`tracklet.MlflowClient`."""

    @property
    def _store(self) -> TrackingStore:
        raise NotImplementedError  # provided by MlflowClient

    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: dict[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Create a run in RUNNING status. Unlike ``tracklet.start_run``, it adds no system tags and
        does not make the run active.

        Args:
            experiment_id: The experiment of the run.
            start_time: The start, in milliseconds since the epoch; now by default.
            tags: Run tags (values stringified); ``mlflow.user`` also sets the run's user.
            run_name: The run's name; a random ``adjective-noun-number`` name by default.

        Returns:
            The new Run.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown experiment, INVALID_STATE for
                a deleted one.

        Example::

            run = client.create_run("0", run_name="baseline")
            client.log_param(run.info.run_id, "lr", 0.01)
            client.set_terminated(run.info.run_id)
        """
        tags = tags or {}
        run_tags = [RunTag(k, str(v)) for k, v in tags.items()]
        user_id = str(tags.get(MLFLOW_USER, "unknown"))
        return self._store.create_run(
            experiment_id=str(experiment_id),
            user_id=user_id,
            start_time=start_time if start_time is not None else _now_ms(),
            tags=run_tags,
            run_name=run_name,
        )

    def get_run(self, run_id: str) -> Run:
        """Fetch a run with its latest metric values, params, tags, inputs and outputs.

        Args:
            run_id: The run's id.

        Returns:
            The Run (active or deleted).

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST if there is no such run.
        """
        background.wait(run_id)  # autologging's model files, and the end of its runs
        return self._store.get_run(run_id)

    def _run_now(self, run_id: str) -> Run:
        """The run as stored now, without waiting for the work queued off the caller's thread
        for it (for writers that only need its ids and locations)."""
        return self._store.get_run(run_id)

    def get_parent_run(self, run_id: str) -> Run | None:
        """Fetch the parent of a nested run (named by its ``mlflow.parentRunId`` tag).

        Args:
            run_id: The child run's id.

        Returns:
            The parent Run, or None if the run has no parent.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST if the run does not exist.
        """
        parent_id = self.get_run(run_id).data.tags.get(MLFLOW_PARENT_RUN_ID)
        return self.get_run(parent_id) if parent_id else None

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        """Change a run's status or name. A terminal status (FINISHED, FAILED, KILLED) also sets
        the end time to now.

        Args:
            run_id: The run's id.
            status: ``"RUNNING"``, ``"SCHEDULED"``, ``"FINISHED"``, ``"FAILED"`` or ``"KILLED"``;
                unchanged if None.
            name: The run's new name (its ``mlflow.runName`` tag follows); unchanged if None.

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for an unknown status;
                RESOURCE_DOES_NOT_EXIST for an unknown run; INVALID_STATE for a deleted run.
        """
        end_time = None
        if status is not None and RunStatus.is_terminated(RunStatus.from_string(status)):
            end_time = _now_ms()
        self._store.update_run_info(run_id, run_status=status, end_time=end_time, run_name=name)

    def set_terminated(
        self, run_id: str, status: str | None = None, end_time: int | None = None
    ) -> RunInfo:
        """End a run, after writing every point queued for it with ``synchronous=False``.

        Args:
            run_id: The run's id.
            status: The final status, ``"FINISHED"`` by default (or ``"FAILED"``, ``"KILLED"``).
            end_time: The end, in milliseconds since the epoch; now by default.

        Returns:
            The run's updated RunInfo.

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for an unknown status;
                RESOURCE_DOES_NOT_EXIST for an unknown run.
        """
        flush_store(self._store)
        status = status or RunStatus.FINISHED.name
        RunStatus.from_string(status)
        return self._store.update_run_info(
            run_id,
            run_status=status,
            end_time=end_time if end_time is not None else _now_ms(),
            run_name=None,
        )

    def delete_run(self, run_id: str) -> None:
        """Mark a run deleted (``restore_run`` undoes it); searches then skip it by default.

        Args:
            run_id: The run's id.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST if there is no such run.
        """
        self._store.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        """Restore a deleted run.

        Args:
            run_id: The run's id.

        Raises:
            MlflowException: RESOURCE_DOES_NOT_EXIST if there is no such run.
        """
        self._store.restore_run(run_id)

    def search_runs(
        self,
        experiment_ids: list[str] | str,
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Search runs of some experiments, one page at a time.

        Args:
            experiment_ids: The experiments to search (one id or a list).
            filter_string: A filter on ``metrics.*``, ``params.*``, ``tags.*``, ``attributes.*``
                (``status``, ``run_name``, ``start_time``, ...), ``datasets.*``, e.g.
                ``"metrics.rmse < 1 AND params.model = 'tree'"``; every run if empty.
            run_view_type: ``ViewType.ACTIVE_ONLY``, ``DELETED_ONLY`` or ``ALL``.
            max_results: The most runs in the page (at most 50,000).
            order_by: Order clauses such as ``["metrics.rmse ASC"]``; by default the newest
                start time first.
            page_token: The ``token`` of the previous page, to read the next one.

        Returns:
            A PagedList of Run whose ``token`` reads the next page (None on the last).

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for a bad filter, order, page token or
                ``max_results``.

        Example::

            page = client.search_runs(["1"], "metrics.rmse < 1", order_by=["metrics.rmse ASC"])
            best = page[0] if page else None
        """
        if isinstance(experiment_ids, str | int):
            experiment_ids = [str(experiment_ids)]
        background.wait()
        return self._store.search_runs(
            experiment_ids=[str(e) for e in experiment_ids],
            filter_string=filter_string or "",
            run_view_type=run_view_type,
            max_results=max_results,
            order_by=order_by,
            page_token=page_token,
        )

    def search_runs_columns(
        self,
        experiment_ids: list[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> RunColumns:
        """tracklet's own: ``search_runs``'s page (same runs, order and token) as columns, with
        no Run objects built; ``tracklet.search_runs`` makes its DataFrames from them.

        Args:
            experiment_ids: The experiments to search.
            filter_string: A search filter, as for ``search_runs``.
            run_view_type: ``ViewType.ACTIVE_ONLY``, ``DELETED_ONLY`` or ``ALL``.
            max_results: The most runs in the page.
            order_by: Order clauses, as for ``search_runs``.
            page_token: The token of the page to read (from a previous page).

        Returns:
            A RunColumns page whose ``token`` reads the next page (None on the last).

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for a bad filter, order or page token.
        """
        return self._store.search_runs_columns(
            experiment_ids, filter_string, run_view_type, max_results, order_by, page_token
        )
