"""What every fluent call resolves first: the client for the tracking URI in force, the
experiment a new run (or search, or model) goes to when none is named, and the entity of a
user's dataset object.

The fluent modules (``fluent``, ``fluent_search``, ``fluent_artifacts``, ``fluent_models``, ...)
and the flavors' ``log_model`` take both from here instead of from each other's private names.
The client is cached in ``_state`` (``_state.reset()`` forgets it).
"""

from __future__ import annotations

from typing import Any

from tracklet import env
from tracklet.entities import Dataset
from tracklet.exceptions import INVALID_PARAMETER_VALUE, RESOURCE_ALREADY_EXISTS, MlflowException
from tracklet.tracking import _state
from tracklet.tracking.client import MlflowClient
from tracklet.tracking.uri import get_tracking_uri

DEFAULT_EXPERIMENT_ID = "0"


def current_client() -> MlflowClient:
    """The client for the tracking URI in force now (reused while the URI stays the same)."""
    uri = get_tracking_uri()
    cached = _state.client_cache
    if cached is not None and cached[0] == uri:
        return cached[1]
    client = MlflowClient(uri)
    _state.client_cache = (uri, client)
    return client


def current_experiment_id() -> str:
    """Active experiment -> MLFLOW_EXPERIMENT_NAME -> MLFLOW_EXPERIMENT_ID -> Default ("0")."""
    if _state.active_experiment_id:
        return _state.active_experiment_id
    return _experiment_id_from_env() or DEFAULT_EXPERIMENT_ID


def _experiment_id_from_env() -> str | None:
    name = env.MLFLOW_EXPERIMENT_NAME.get()
    experiment_id = env.MLFLOW_EXPERIMENT_ID.get()
    client = current_client()
    if name is not None:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            try:
                return client.create_experiment(name)
            except MlflowException as error:
                if error.error_code != RESOURCE_ALREADY_EXISTS:
                    raise
                experiment = client.get_experiment_by_name(name)
                assert experiment is not None
        if experiment_id and experiment_id != experiment.experiment_id:
            raise MlflowException(
                f"The provided MLFLOW_EXPERIMENT_ID environment variable value `{experiment_id}` "
                f"does not match the experiment id `{experiment.experiment_id}` for experiment "
                f"name `{name}`",
                INVALID_PARAMETER_VALUE,
            )
        return experiment.experiment_id
    if experiment_id is not None:
        try:
            return client.get_experiment(experiment_id).experiment_id
        except MlflowException as error:
            raise MlflowException(
                f"The provided MLFLOW_EXPERIMENT_ID environment variable value `{experiment_id}` "
                "does not exist in the tracking store. Provide a valid experiment_id.",
                INVALID_PARAMETER_VALUE,
            ) from error
    return None


def dataset_entity(dataset: Any) -> Dataset:
    """A tracklet (or MLflow) dataset object as the Dataset entity stored on the run."""
    if isinstance(dataset, Dataset):
        return dataset
    to_entity = getattr(dataset, "_to_mlflow_entity", None)
    if to_entity is None:
        raise MlflowException(
            f"log_input expects a dataset from tracklet.data (from_pandas, from_numpy, ...), "
            f"got {type(dataset).__name__}",
            INVALID_PARAMETER_VALUE,
        )
    entity = to_entity()
    return Dataset(
        name=entity.name,
        digest=entity.digest,
        source_type=entity.source_type,
        source=entity.source,
        schema=entity.schema,
        profile=entity.profile,
    )
