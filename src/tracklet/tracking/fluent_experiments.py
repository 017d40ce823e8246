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
    """Create an experiment and return its id."""
    return current_client().create_experiment(name, artifact_location, tags)


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment active (created if it does not exist yet) and return it."""
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
    return current_client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    return current_client().get_experiment_by_name(name)


def delete_experiment(experiment_id: str) -> None:
    current_client().delete_experiment(experiment_id)


def restore_experiment(experiment_id: str) -> None:
    current_client().restore_experiment(experiment_id)


def rename_experiment(experiment_id: str, new_name: str) -> None:
    current_client().rename_experiment(experiment_id, new_name)


def set_experiment_tag(key: str, value: Any) -> None:
    current_client().set_experiment_tag(current_experiment_id(), key, value)


def set_experiment_tags(tags: dict[str, Any]) -> None:
    for key, value in tags.items():
        set_experiment_tag(key, value)


def delete_experiment_tag(key: str) -> None:
    current_client().delete_experiment_tag(current_experiment_id(), key)
