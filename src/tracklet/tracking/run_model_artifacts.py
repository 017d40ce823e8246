"""``runs:/<run_id>/<name>`` for a model logged with MLflow 3's ``log_model(name=...)``.

In MLflow 3 a model's files live under its logged model's location, not in the run's artifacts,
yet ``runs:/<run_id>/model`` still names it: when the path is not among the run's artifacts,
MLflow (``RunsArtifactRepository``) reads it from the logged model of that name created by the
run, into ``<dst>/<name>``. This is that fallback, shared by every download of a ``runs:/`` URI.
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any

from tracklet.artifacts.paths import validate_relative_path
from tracklet.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException

if TYPE_CHECKING:
    from tracklet.entities import LoggedModel


def run_logged_model(client: Any, run_id: str, name: str) -> LoggedModel | None:
    """The logged model called ``name`` whose source run is ``run_id``, if any."""
    if not name or "'" in name:
        return None
    experiment_id = client.get_run(run_id).info.experiment_id
    token = None
    while True:
        page = client.search_logged_models(
            [experiment_id], filter_string=f"name = '{name}'", page_token=token
        )
        for model in page:
            if model.source_run_id == run_id:
                return model  # type: ignore[no-any-return]
        token = page.token
        if not token:
            return None


def download_run_artifact(client: Any, run_id: str, path: str, dst_path: str | None) -> str:
    """Download ``path`` of a run, falling back to the run's logged model named by its first
    segment when the run has no such artifact (MLflow's ``runs:/`` semantics)."""
    try:
        return client._run_repository(run_id).download_artifacts(path, dst_path)  # type: ignore[no-any-return]
    except MlflowException as error:
        if error.error_code != RESOURCE_DOES_NOT_EXIST:
            raise
        name, _, rest = validate_relative_path(path).partition("/")
        model = run_logged_model(client, run_id, name)
        if model is None:
            raise
    destination = os.path.join(dst_path or tempfile.mkdtemp(prefix="tracklet-"), name)
    os.makedirs(destination, exist_ok=True)
    repository = client._repository(model.artifact_location)
    return repository.download_artifacts(rest, destination)  # type: ignore[no-any-return]
