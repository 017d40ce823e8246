"""The fluent logged-model API: initialize, finalize, search, and the active model."""

from __future__ import annotations

import dataclasses
import os
from types import TracebackType
from typing import Any

from tracklet.entities import LoggedModel, LoggedModelStatus
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.tracking import _state, system_tags
from tracklet.tracking.context import current_client, current_experiment_id
from tracklet.tracking.fluent import active_run

MLFLOW_MODEL_IS_EXTERNAL = "mlflow.model.isExternal"

__all__ = [
    "ActiveModel",
    "clear_active_model",
    "create_external_model",
    "delete_logged_model_tag",
    "finalize_logged_model",
    "get_active_model_id",
    "get_logged_model",
    "initialize_logged_model",
    "last_logged_model",
    "log_model_params",
    "search_logged_models",
    "set_active_model",
    "set_logged_model_tags",
]


def create_logged_model_in_context(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """A new PENDING model in the active run's (or active) experiment, with the context tags."""
    run = active_run()
    if source_run_id is None and run is not None:
        source_run_id = run.info.run_id
    if experiment_id is None:
        if run is not None:
            experiment_id = run.info.experiment_id
        elif source_run_id is not None:
            experiment_id = current_client().get_run(source_run_id).info.experiment_id
        else:
            experiment_id = current_experiment_id()
    resolved = system_tags.context_tags()
    resolved.update({k: str(v) for k, v in (tags or {}).items()})
    model = current_client().create_logged_model(
        experiment_id=experiment_id,
        name=name,
        source_run_id=source_run_id,
        tags=resolved,
        params=params,
        model_type=model_type,
    )
    _state.thread().last_logged_model_id = model.model_id
    return model


def initialize_logged_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """Create a logged model in PENDING status; finalize it READY or FAILED later."""
    return create_logged_model_in_context(
        name, source_run_id, tags, params, model_type, experiment_id
    )


def create_external_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """Record a model whose artifacts live outside the tracker: it gets an MLmodel file that
    says so (as MLflow writes it) and is READY at once."""
    import tempfile

    from tracklet.models.model import MLMODEL_FILE_NAME, Model
    from tracklet.models.signature import infer_signature

    model = create_logged_model_in_context(
        name,
        source_run_id,
        {**(tags or {}), MLFLOW_MODEL_IS_EXTERNAL: "true"},
        params,
        model_type,
        experiment_id,
    )
    spec = Model(
        artifact_path=model.artifact_location,
        model_uuid=model.model_id,
        model_id=model.model_id,
        run_id=model.source_run_id,
        # MLflow adds a placeholder signature so that registries that require one accept it.
        signature=infer_signature(model_input=True, model_output=True),
        metadata={MLFLOW_MODEL_IS_EXTERNAL: True},
    )
    client = current_client()
    with tempfile.TemporaryDirectory() as directory:
        spec.save(os.path.join(directory, MLMODEL_FILE_NAME))
        client.log_model_artifacts(model.model_id, directory)
    finalized = client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    _state.thread().last_logged_model_id = finalized.model_id
    return finalized


def finalize_logged_model(model_id: str, status: LoggedModelStatus | str) -> LoggedModel:
    return current_client().finalize_logged_model(model_id, status)


def get_logged_model(model_id: str) -> LoggedModel:
    return current_client().get_logged_model(model_id)


def last_logged_model() -> LoggedModel | None:
    """The model most recently created by this thread, fetched anew; None if none."""
    model_id = _state.thread().last_logged_model_id
    return get_logged_model(model_id) if model_id else None


def log_model_params(params: dict[str, Any], model_id: str | None = None) -> None:
    model_id = model_id or get_active_model_id()
    if not model_id:
        raise MlflowException(
            "log_model_params needs a model_id, or an active model (set_active_model).",
            INVALID_PARAMETER_VALUE,
        )
    current_client().log_model_params(model_id, params)


def set_logged_model_tags(model_id: str, tags: dict[str, Any]) -> None:
    current_client().set_logged_model_tags(model_id, tags)


def delete_logged_model_tag(model_id: str, key: str) -> None:
    current_client().delete_logged_model_tag(model_id, key)


def search_logged_models(
    experiment_ids: list[str] | None = None,
    filter_string: str | None = None,
    datasets: list[dict[str, str]] | None = None,
    max_results: int | None = None,
    order_by: list[dict[str, Any]] | None = None,
    output_format: str = "pandas",
) -> Any:
    """Every matching model (following page tokens), as a pandas DataFrame or a list."""
    if output_format not in ("pandas", "list"):
        raise MlflowException(
            f"Unsupported output format: {output_format!r}. Supported string values are "
            "'pandas' or 'list'",
            INVALID_PARAMETER_VALUE,
        )
    client = current_client()
    ids = experiment_ids or [current_experiment_id()]
    models: list[LoggedModel] = []
    token: str | None = None
    while True:
        page = client.search_logged_models(
            ids, filter_string, datasets, max_results, order_by, token
        )
        models.extend(page)
        if (max_results is not None and len(models) >= max_results) or not page.token:
            break
        token = page.token
    if max_results is not None:
        models = models[:max_results]
    if output_format == "list":
        return models
    import pandas as pd

    return pd.DataFrame([_model_row(m) for m in models])


def _model_row(model: LoggedModel) -> dict[str, Any]:
    # MLflow's LoggedModel.to_dictionary(), with the status as its name.
    return {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "artifact_location": model.artifact_location,
        "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp,
        "model_type": model.model_type,
        "source_run_id": model.source_run_id,
        "status": model.status,
        "status_message": model.status_message,
        "tags": model.tags,
        "params": model.params,
        "metrics": model.metrics,
    }


class ActiveModel(LoggedModel):
    """The model ``set_active_model`` returns; as a context manager it restores the previous
    active model on exit."""

    def __init__(self, model: LoggedModel, previous: str | None) -> None:
        fields = {f.name: getattr(model, f.name) for f in dataclasses.fields(LoggedModel)}
        super().__init__(**fields)
        # Not a field of the frozen LoggedModel: this subclass's own state, in the instance dict.
        self.__dict__["_previous"] = previous

    def __enter__(self) -> ActiveModel:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        _state.thread().active_model_id = self.__dict__.get("_previous")


def set_active_model(*, name: str | None = None, model_id: str | None = None) -> ActiveModel:
    """Make a model active (traces link to it): by id, or by name in the active experiment,
    creating an external model of that name if none exists."""
    if (name is None) == (model_id is None) and not (name and model_id):
        raise MlflowException("Either name or model_id must be provided", INVALID_PARAMETER_VALUE)
    client = current_client()
    if model_id is not None:
        model = client.get_logged_model(model_id)
        if name is not None and model.name != name:
            raise MlflowException(
                f"Logged model with ID '{model_id}' has name '{model.name}', which does not "
                f"match the provided name '{name}'.",
                INVALID_PARAMETER_VALUE,
            )
    else:
        assert name is not None
        found = client.search_logged_models(
            [current_experiment_id()], filter_string=f"name = '{name}'", max_results=2
        )
        model = found[0] if found else create_external_model(name=name)
    previous = get_active_model_id()
    _state.thread().active_model_id = model.model_id
    return ActiveModel(model, previous)


def get_active_model_id() -> str | None:
    """The active model of this thread, else ``MLFLOW_ACTIVE_MODEL_ID``, else None."""
    return _state.active_model_id()


def clear_active_model() -> None:
    _state.thread().active_model_id = None
