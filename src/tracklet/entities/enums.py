"""MLflow's small enumerations: run status, lifecycle stage, view type and source type."""

from __future__ import annotations

from enum import IntEnum

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException


class RunStatus(IntEnum):
    """A run's status; ``RunInfo.status`` holds its name (``"FINISHED"``), as in MLflow."""

    RUNNING = 1
    SCHEDULED = 2
    FINISHED = 3
    FAILED = 4
    KILLED = 5

    @staticmethod
    def to_string(status: int) -> str:
        """The name of a status.

        Args:
            status: A RunStatus value, e.g. ``RunStatus.FINISHED`` (3).

        Returns:
            Its name, e.g. ``"FINISHED"``.

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for an unknown value.
        """
        try:
            return RunStatus(status).name
        except ValueError:
            raise MlflowException(
                f"Could not get string corresponding to run status {status}",
                INVALID_PARAMETER_VALUE,
            ) from None

    @staticmethod
    def from_string(status_str: str) -> int:
        """The status of a name.

        Args:
            status_str: ``"RUNNING"``, ``"SCHEDULED"``, ``"FINISHED"``, ``"FAILED"`` or
                ``"KILLED"``.

        Returns:
            The RunStatus value, as an int.

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for an unknown name.
        """
        try:
            return int(RunStatus[status_str])
        except KeyError:
            raise MlflowException(
                f"Could not get run status corresponding to string {status_str}. Valid run "
                f"status strings: {[s.name for s in RunStatus]}",
                INVALID_PARAMETER_VALUE,
            ) from None

    @staticmethod
    def is_terminated(status: int) -> bool:
        """Whether a status ends a run (FINISHED, FAILED or KILLED).

        Args:
            status: A RunStatus value.

        Returns:
            True for a terminal status.
        """
        return status in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)

    @staticmethod
    def all_status() -> list[int]:
        """Every run status.

        Returns:
            The RunStatus values, as ints, in order.
        """
        return [int(s) for s in RunStatus]


class LifecycleStage:
    """Soft-deletion state of experiments, runs and logged models."""

    ACTIVE = "active"
    DELETED = "deleted"

    @classmethod
    def view_type_to_stages(cls, view_type: int | None = None) -> list[str]:
        stages = []
        if view_type in (ViewType.ACTIVE_ONLY, ViewType.ALL):
            stages.append(cls.ACTIVE)
        if view_type in (ViewType.DELETED_ONLY, ViewType.ALL):
            stages.append(cls.DELETED)
        return stages

    @classmethod
    def is_valid(cls, stage: str) -> bool:
        return stage in (cls.ACTIVE, cls.DELETED)

    @classmethod
    def matches_view_type(cls, view_type: int, lifecycle_stage: str) -> bool:
        return lifecycle_stage in cls.view_type_to_stages(view_type)


class ViewType(IntEnum):
    """Which lifecycle stages a search returns."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3

    @staticmethod
    def from_string(view_str: str) -> int:
        """The view type of a name.

        Args:
            view_str: ``"ACTIVE_ONLY"``, ``"DELETED_ONLY"`` or ``"ALL"`` (any case).

        Returns:
            The ViewType value, as an int.

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for an unknown name.
        """
        try:
            return int(ViewType[view_str.upper()])
        except KeyError:
            raise MlflowException(
                f"Could not get valid view type corresponding to string {view_str}. "
                "Valid view types are ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL']",
                INVALID_PARAMETER_VALUE,
            ) from None

    @staticmethod
    def to_string(view_type: int) -> str:
        """The name of a view type.

        Args:
            view_type: A ViewType value.

        Returns:
            Its name, e.g. ``"ACTIVE_ONLY"``.
        """
        return ViewType(view_type).name


class SourceType(IntEnum):
    """Where a run's code came from (``mlflow.source.type``)."""

    NOTEBOOK = 1
    JOB = 2
    PROJECT = 3
    LOCAL = 4
    RECIPE = 5
    UNKNOWN = 1000

    @staticmethod
    def to_string(source_type: int) -> str:
        return SourceType(source_type).name

    @staticmethod
    def from_string(status_str: str) -> int:
        try:
            return int(SourceType[status_str])
        except KeyError:
            raise MlflowException(
                f"Could not get run source type corresponding to string {status_str}",
                INVALID_PARAMETER_VALUE,
            ) from None
