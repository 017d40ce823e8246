"""The fluent model registry API: ``register_model`` and the registry searches (MLflow 3.17)."""

from __future__ import annotations

import json
import logging
import sys
from typing import TYPE_CHECKING, Any

from tracklet.entities import LoggedModel
from tracklet.exceptions import (
    NOT_FOUND,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)
from tracklet.store.model_registry_base import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
)
from tracklet.store.models_uri import is_models_uri, parse_models_uri
from tracklet.tracking.client import MlflowClient
from tracklet.tracking.client_registry import DEFAULT_AWAIT_MAX_SLEEP_SECONDS
from tracklet.tracking.context import current_client as _client

if TYPE_CHECKING:  # the registry's entities load on first use
    from tracklet.entities.model_registry import ModelVersion, RegisteredModel

# A logged model's tag listing the registered versions made from it (MLflow's name).
MLFLOW_MODEL_VERSIONS = "mlflow.modelVersions"
_MLMODEL = "MLmodel"

__all__ = ["register_model", "search_model_versions", "search_registered_models"]

_logger = logging.getLogger(__name__)


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")  # MLflow's eprint: registration progress on stderr


def register_model(
    model_uri: str,
    name: str,
    await_registration_for: int = DEFAULT_AWAIT_MAX_SLEEP_SECONDS,
    *,
    tags: dict[str, Any] | None = None,
) -> ModelVersion:
    """Register the model at ``model_uri`` as a new version of ``name`` (created if missing).

    Args:
        model_uri: ``models:/<model_id>``, ``runs:/<run_id>/<path>``, ``models:/name/3`` or an
            artifact URI.
        name: The registered model.
        await_registration_for: Seconds to wait for the version to become READY.
        tags: Tags of the new version.

    Returns:
        The new ModelVersion.
    """
    client = _client()
    try:
        client.create_registered_model(name)
        _say(f"Successfully registered model '{name}'.")
    except MlflowException as error:
        if error.error_code != RESOURCE_ALREADY_EXISTS:
            raise
        _say(f"Registered model {name!r} already exists. Creating a new version of this model...")
    source, run_id, model_id = _source_of(client, model_uri)
    version = client.create_model_version(
        name,
        source,
        run_id,
        tags,
        await_creation_for=await_registration_for,
        model_id=model_id,
    )
    _say(f"Created version '{version.version}' of model '{version.name}'.")
    if model_id:
        _link_logged_model(client, model_id, version)
    return version


def _source_of(client: MlflowClient, model_uri: str) -> tuple[str, str | None, str | None]:
    """(source, run id, model id) for ``model_uri``, as MLflow's ``_register_model`` finds them."""
    run_id: str | None = None
    model_id: str | None = None
    source = model_uri
    if model_uri.startswith("runs:"):
        run_id, _, path = model_uri[len("runs:") :].lstrip("/").partition("/")
        path = path.strip("/")
        run = client.get_run(run_id)
        listed = {f.path for f in client.list_artifacts(run_id, path or None)}
        if f"{path}/{_MLMODEL}".lstrip("/") in listed:
            source = f"{str(run.info.artifact_uri).rstrip('/')}/{path}".rstrip("/")
        else:
            models = _logged_models_of_run(client, run.info.experiment_id, run_id, path)
            if not models:
                raise MlflowException(
                    f"Unable to find a logged_model with artifact_path {path} under run {run_id}",
                    NOT_FOUND,
                )
            if len(models) > 1:
                steps = {o.model_id: o.step for o in run.outputs.model_outputs}
                model_id = max(models, key=lambda m: steps.get(m.model_id, -1)).model_id
            else:
                model_id = models[0].model_id
            source = f"models:/{model_id}"
            _logger.warning(
                "Run with id %s has no artifacts at artifact path %r, registering model based "
                "on %s instead",
                run_id,
                path,
                source,
            )
    if model_id is None and is_models_uri(model_uri):
        parsed = parse_models_uri(model_uri)
        if parsed.model_id is not None:
            model_id = parsed.model_id
        elif parsed.name is not None and parsed.version is not None:
            model_id = client.get_model_version(parsed.name, parsed.version).model_id
    return source, run_id, model_id


def _logged_models_of_run(
    client: MlflowClient, experiment_id: str, run_id: str, name: str
) -> list[LoggedModel]:
    found: list[LoggedModel] = []
    token = None
    while True:
        page = client.search_logged_models(
            [experiment_id], filter_string=f"name = '{name}'", page_token=token
        )
        found.extend(m for m in page if m.source_run_id == run_id)
        token = page.token
        if not token:
            return found


def _link_logged_model(client: MlflowClient, model_id: str, version: ModelVersion) -> None:
    """Record the new version in the logged model's ``mlflow.modelVersions`` tag."""
    entry = [{"name": version.name, "version": version.version}]
    try:
        model = client.get_logged_model(model_id)
        existing = model.tags.get(MLFLOW_MODEL_VERSIONS)
        value = (json.loads(existing) if existing else []) + entry
        client.set_logged_model_tags(model_id, {MLFLOW_MODEL_VERSIONS: json.dumps(value)})
    except MlflowException as error:
        if error.error_code != RESOURCE_DOES_NOT_EXIST:
            raise
        _logger.warning("Unable to update logged model tags for model ID %r", model_id)


def search_registered_models(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[RegisteredModel]:
    """Every registered model matching ``filter_string``, across all pages.

    Args:
        max_results: At most this many (all when None).
        filter_string: As for ``MlflowClient.search_registered_models``.
        order_by: As for ``MlflowClient.search_registered_models``.

    Returns:
        The registered models, in order.
    """
    client = _client()
    return _all_pages(
        lambda size, token: client.search_registered_models(filter_string, size, order_by, token),
        SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        max_results,
    )


def search_model_versions(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[ModelVersion]:
    """Every model version matching ``filter_string``, across all pages.

    Args:
        max_results: At most this many (all when None).
        filter_string: As for ``MlflowClient.search_model_versions``.
        order_by: As for ``MlflowClient.search_model_versions``.

    Returns:
        The model versions, in order.
    """
    client = _client()
    return _all_pages(
        lambda size, token: client.search_model_versions(filter_string, size, order_by, token),
        SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        max_results,
    )


def _all_pages(fetch: Any, page_size: int, max_results: int | None) -> list[Any]:
    found: list[Any] = []
    token = None
    while max_results is None or len(found) < max_results:
        size = page_size if max_results is None else min(page_size, max_results - len(found))
        page = fetch(size, token)
        found.extend(page)
        token = page.token
        if not token:
            break
    return found
