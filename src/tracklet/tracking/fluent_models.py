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
    """Create a logged model in PENDING status, in the active run's experiment (or the given
    or active one), linked to the active run; ``finalize_logged_model`` ends it.

    Args:
        name: The model's name; a random name by default.
        source_run_id: The run that produced it; the active run by default.
        tags: Model tags (values stringified), on top of the context tags (user, source).
        params: Model params (values stringified).
        model_type: A free-form type, e.g. ``"agent"``.
        experiment_id: The experiment; the source run's (or the active) one by default.

    Returns:
        The new LoggedModel (also this thread's ``last_logged_model``).

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown experiment or run.

    Example::

        model = tracklet.initialize_logged_model(name="ranker")
        tracklet.finalize_logged_model(model.model_id, "READY")
    """
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
    says so (as MLflow writes it) and is READY at once.

    Args:
        name: The model's name; a random name by default.
        source_run_id: The run that produced it; the active run by default.
        tags: Model tags (values stringified).
        params: Model params (values stringified).
        model_type: A free-form type, e.g. ``"agent"``.
        experiment_id: The experiment; the source run's (or the active) one by default.

    Returns:
        The READY LoggedModel.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown experiment or run.
    """
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
    return current_client().finalize_logged_model(model_id, status)


def get_logged_model(model_id: str) -> LoggedModel:
    """Fetch a logged model with its tags, params and metrics.

    Args:
        model_id: The logged model's id.

    Returns:
        The LoggedModel.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST if there is no such model.
    """
    return current_client().get_logged_model(model_id)


def last_logged_model() -> LoggedModel | None:
    """The model most recently created by this thread, fetched anew.

    Returns:
        The LoggedModel, or None if this thread has created none.
    """
    model_id = _state.thread().last_logged_model_id
    return get_logged_model(model_id) if model_id else None


def log_model_params(params: dict[str, Any], model_id: str | None = None) -> None:
    """Log params of a logged model.

    Args:
        params: Params to log; values are stringified.
        model_id: The logged model's id; the active model if None.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE with neither ``model_id`` nor an active
            model; RESOURCE_DOES_NOT_EXIST for an unknown model.
    """
    model_id = model_id or get_active_model_id()
    if not model_id:
        raise MlflowException(
            "log_model_params needs a model_id, or an active model (set_active_model).",
            INVALID_PARAMETER_VALUE,
        )
    current_client().log_model_params(model_id, params)


def set_logged_model_tags(model_id: str, tags: dict[str, Any]) -> None:
    """Set tags on a logged model (replacing the previous values of those keys).

    Args:
        model_id: The logged model's id.
        tags: Tags to set; values are stringified.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST for an unknown model.
    """
    current_client().set_logged_model_tags(model_id, tags)


def delete_logged_model_tag(model_id: str, key: str) -> None:
    """Delete a tag of a logged model.

    Args:
        model_id: The logged model's id.
        key: The tag's name.

    Raises:
        MlflowException: RESOURCE_DOES_NOT_EXIST if the model or the tag does not exist.
    """
    current_client().delete_logged_model_tag(model_id, key)


def search_logged_models(
    experiment_ids: list[str] | None = None,
    filter_string: str | None = None,
    datasets: list[dict[str, str]] | None = None,
    max_results: int | None = None,
    order_by: list[dict[str, Any]] | None = None,
    output_format: str = "pandas",
) -> Any:
    """Search logged models, following page tokens until ``max_results`` or the last page.

    Args:
        experiment_ids: The experiments to search; the current experiment if None.
        filter_string: A filter on attributes, ``metrics.*``, ``params.*`` and ``tags.*``,
            e.g. ``"metrics.accuracy > 0.9"``.
        datasets: Restrict metric filters and orders to these datasets, each
            ``{"dataset_name": ..., "dataset_digest": ...}`` (the digest optional).
        max_results: The most models returned; every match if None.
        order_by: Orders, each ``{"field_name": "metrics.accuracy", "ascending": False}``.
        output_format: ``"pandas"`` (a DataFrame, one row per model) or ``"list"``.

    Returns:
        A pandas DataFrame, or a list of LoggedModel.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for another output format, a bad filter or
            order.

    Example::

        tracklet.search_logged_models(filter_string="metrics.accuracy > 0.9", output_format="list")
    """
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
    active model on exit.

    Args:
        model: The model made active.
        previous: The id of the model active before it (restored on exit), or None.
    """

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
    """Make a model active for this thread: traces and model metrics link to it. By id, or by
    name in the current experiment (an external model of that name is created if none
    exists).

    Args:
        name: The model's name.
        model_id: The model's id (with ``name``, the two must match).

    Returns:
        The ActiveModel; use it in a ``with`` block to restore the previous one on exit.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE with neither argument, or an id and name that
            do not match; RESOURCE_DOES_NOT_EXIST for an unknown id.
    """
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
    """The active model of this thread, else ``MLFLOW_ACTIVE_MODEL_ID``.

    Returns:
        The model id, or None.
    """
    return _state.active_model_id()


def clear_active_model() -> None:
    """Make no model active for this thread (``MLFLOW_ACTIVE_MODEL_ID`` is not read again)."""
    _state.thread().active_model_id = None
