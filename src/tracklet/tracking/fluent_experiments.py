"""The fluent experiment functions: create, set active, read, rename, delete, restore, tags."""

from __future__ import annotations

import logging
from typing import Any

from tracklet import env
from tracklet.entities import Experiment, LifecycleStage
from tracklet.exceptions import INVALID_PARAMETER_VALUE, RESOURCE_ALREADY_EXISTS, MlflowException
from tracklet.tracking import _state
from tracklet.tracking.context import current_client, current_experiment_id

_logger = logging.getLogger(__name__)


def create_experiment(
    name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
) -> str:
    """Create an experiment (it does not become the active one; see ``set_experiment``).

    Args:
        name: The experiment's name, unique among all experiments (deleted ones included).
        artifact_location: Where its runs store artifacts; by default under the store's
            artifact root.
        tags: Experiment tags; values are stringified.

    Returns:
        The new experiment's id.

    Raises:
        MlflowException: RESOURCE_ALREADY_EXISTS if an experiment has this name,
            INVALID_PARAMETER_VALUE for an empty name.

    Example::

        experiment_id = tracklet.create_experiment("churn", tags={"team": "growth"})
    """
    return current_client().create_experiment(name, artifact_location, tags)


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment the active one: new runs, searches and models go there. An experiment
    named but missing is created. Also sets ``MLFLOW_EXPERIMENT_ID`` for subprocesses.

    Args:
        experiment_name: The experiment's name (exactly one of name and id).
        experiment_id: The experiment's id.

    Returns:
        The active Experiment.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for both or neither argument, or a deleted
            experiment; RESOURCE_DOES_NOT_EXIST for an unknown id.

    Example::

        tracklet.set_experiment("churn")
        with tracklet.start_run():
            tracklet.log_metric("auc", 0.91)
    """
    if (experiment_name is None) == (experiment_id is None):
        raise MlflowException(
            "Must specify exactly one of: `experiment_id` or `experiment_name`.",
            INVALID_PARAMETER_VALUE,
        )
    client = current_client()
    with _state.lock:
        if experiment_id is None:
            assert experiment_name is not None
            experiment = client.get_experiment_by_name(experiment_name)
            if experiment is None:
                _logger.info(
                    "Experiment with name '%s' does not exist. Creating a new experiment.",
                    experiment_name,
                )
                try:
                    new_id = client.create_experiment(experiment_name)
                except MlflowException as error:
                    if error.error_code != RESOURCE_ALREADY_EXISTS:
                        raise
                    found = client.get_experiment_by_name(experiment_name)
                    assert found is not None
                    new_id = found.experiment_id
                experiment = client.get_experiment(new_id)
        else:
            experiment = client.get_experiment(str(experiment_id))
        if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
            raise MlflowException(
                f"Cannot set a deleted experiment {experiment.name!r} as the active experiment. "
                "You can restore the experiment, or permanently delete the experiment to create "
                "a new one.",
                INVALID_PARAMETER_VALUE,
            )
        _state.active_experiment_id = experiment.experiment_id
        # Subprocesses (multiprocessing with spawn) then log to the same experiment.
        env.MLFLOW_EXPERIMENT_ID.set(experiment.experiment_id)
    return experiment


def get_experiment(experiment_id: str) -> Experiment:
    """Fetch an experiment by id.

    Args:
        experiment_id: The experiment's id.

    Returns:
        The Experiment (active or deleted).

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST if there is no such experiment.
    """
    return current_client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    """Fetch an experiment by name.

    Args:
        name: The experiment's name (case-sensitive).

    Returns:
        The Experiment (active or deleted), or None if no experiment has this name.
    """
    return current_client().get_experiment_by_name(name)


def delete_experiment(experiment_id: str) -> None:
    """Mark an experiment and its runs deleted (``restore_experiment`` undoes it).

    Args:
        experiment_id: The experiment's id.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown id; INVALID_PARAMETER_VALUE
            for the Default experiment ("0").
    """
    current_client().delete_experiment(experiment_id)


def restore_experiment(experiment_id: str) -> None:
    """Restore a deleted experiment and the runs deleted with it.

    Args:
        experiment_id: The experiment's id.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown id.
    """
    current_client().restore_experiment(experiment_id)


def rename_experiment(experiment_id: str, new_name: str) -> None:
    """Rename an active experiment.

    Args:
        experiment_id: The experiment's id.
        new_name: Its new name, unused by any other experiment.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown id, INVALID_STATE for a
            deleted experiment, RESOURCE_ALREADY_EXISTS if the name is taken.
    """
    current_client().rename_experiment(experiment_id, new_name)


def set_experiment_tag(key: str, value: Any) -> None:
    """Set a tag on the current experiment (the active one, else the one the environment names,
    else the Default experiment).

    Args:
        key: The tag's name.
        value: The tag's value; stringified.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a bad key or an over-long value.
    """
    current_client().set_experiment_tag(current_experiment_id(), key, value)


def set_experiment_tags(tags: dict[str, Any]) -> None:
    """Set several tags on the current experiment (see ``set_experiment_tag``).

    Args:
        tags: Tags to set; values are stringified.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a bad key or an over-long value.
    """
    for key, value in tags.items():
        set_experiment_tag(key, value)


def delete_experiment_tag(key: str) -> None:
    """Delete a tag of the current experiment (see ``set_experiment_tag``).

    Args:
        key: The tag's name.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST if the tag does not exist.
    """
    current_client().delete_experiment_tag(current_experiment_id(), key)
