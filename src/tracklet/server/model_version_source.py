"""Checking a new model version's ``source`` as MLflow 3.17's server does (``handlers.py``).

A source names the artifacts a version serves, and the server later reads them back (the
model-version artifact route), so a client must not be able to point one at files it could not
read otherwise. The rules:

- ``models:/name/<version|stage|latest>`` and ``models:/name@alias`` are resolved to
  ``models:/name/<number>``, and the version inherits that version's run and logged model;
- with a ``model_id``: the source is ``models:/<that id>``, or lies inside that logged model's
  artifact location (local paths and ``mlflow-artifacts:`` URIs);
- otherwise: ``runs:/<run_id>/...`` of the given ``run_id``, or inside that run's artifact
  location (local and proxied sources); other remote URIs (``s3://``...) are accepted as such;
- no ``..`` segments, even percent-encoded.
"""

from __future__ import annotations

import os
import posixpath
import re
import urllib.parse

from tracklet.exceptions import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST, MlflowException
from tracklet.store.base import TrackingStore
from tracklet.store.model_registry_base import ModelRegistryStore
from tracklet.store.models_uri import ParsedModelUri, parse_models_uri


def _invalid(source: str, named_by: str) -> MlflowException:
    return MlflowException(
        f"Invalid model version source: '{source}'. The {named_by} request parameter must "
        "identify the resource that contains the source.",
        INVALID_PARAMETER_VALUE,
    )


def _is_local(source: str) -> bool:
    scheme = urllib.parse.urlparse(source).scheme
    return scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt")


def _local_path(uri: str) -> str:
    parsed = urllib.parse.urlparse(uri)
    path = urllib.parse.unquote(parsed.path) if parsed.scheme == "file" else uri
    return os.path.realpath(path)


def _parts(uri: str) -> tuple[str, str, list[str]]:
    parsed = urllib.parse.urlparse(uri)
    path = re.sub(r"/+", "/", urllib.parse.unquote(parsed.path))
    return parsed.scheme, parsed.netloc, [p for p in path.split("/") if p]


def _within(source: str, root: str) -> bool:
    if _is_local(source) and _is_local(root):
        inner, outer = _local_path(source), _local_path(root)
        return inner == outer or inner.startswith(outer.rstrip(os.sep) + os.sep)
    source_scheme, source_host, source_parts = _parts(source)
    root_scheme, root_host, root_parts = _parts(root)
    return (
        (source_scheme, source_host) == (root_scheme, root_host)
        and bool(root_parts)
        and source_parts[: len(root_parts)] == root_parts
    )


def _check_no_relative_parts(source: str) -> None:
    unquoted = source
    while (once := urllib.parse.unquote_plus(unquoted)) != unquoted:
        unquoted = once
    path = urllib.parse.urlparse(unquoted).path
    if (
        "\x00" in path
        or any(p == ".." for p in unquoted.split("/"))
        or ".." in posixpath.split(path)
    ):
        raise MlflowException(
            f"Invalid model version source: '{source}'. If supplying a source as an http, https, "
            "local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be "
            "provided without relative path references present. Please provide an absolute path.",
            INVALID_PARAMETER_VALUE,
        )


def _parsed_models_source(source: str, named_by: str) -> ParsedModelUri:
    if urllib.parse.urlparse(source).netloc:
        raise MlflowException(
            f"Invalid model version source: '{source}'. Registered model sources must use the "
            "active model registry.",
            INVALID_PARAMETER_VALUE,
        )
    try:
        return parse_models_uri(source)
    except MlflowException:
        raise _invalid(source, named_by) from None


def resolve_source(
    registry: ModelRegistryStore,
    source: str,
    run_id: str | None,
    model_id: str | None,
) -> tuple[str, str | None, str | None]:
    """A registered-version source made explicit: ``models:/name/<number>`` and its lineage."""
    if urllib.parse.urlparse(source).scheme != "models":
        return source, run_id, model_id
    parsed = _parsed_models_source(source, "model_id")
    if parsed.model_id is not None:
        return source, run_id, model_id
    name = str(parsed.name)
    if parsed.version is not None:
        version = registry.get_model_version(name, parsed.version)
    elif parsed.alias is not None:
        version = registry.get_model_version_by_alias(name, parsed.alias)
    else:
        stages = None if parsed.stage is None else [parsed.stage]
        latest = registry.get_latest_versions(name, stages)
        if not latest:
            raise MlflowException(
                f"No versions of model with name '{name}' found", RESOURCE_DOES_NOT_EXIST
            )
        version = max(latest, key=lambda v: int(v.version))
    if (run_id is not None and (run_id or "") != (version.run_id or "")) or (
        model_id is not None and (model_id or "") != (version.model_id or "")
    ):
        raise MlflowException(
            f"Invalid model version source: '{source}'. The run_id and model_id request "
            "parameters must match the referenced model version.",
            INVALID_PARAMETER_VALUE,
        )
    return (
        f"models:/{name}/{version.version}",
        version.run_id if run_id is None else run_id,
        version.model_id if model_id is None else model_id,
    )


def check_source(
    store: TrackingStore, source: str, run_id: str | None, model_id: str | None
) -> None:
    """Refuse a source the given run or logged model does not contain (module docstring)."""
    named_by = "model_id" if model_id else "run_id"
    root: str | None = None
    if model_id:
        try:
            root = store.get_logged_model(model_id).artifact_location
        except MlflowException as error:
            if error.error_code != RESOURCE_DOES_NOT_EXIST:
                raise
    elif run_id:
        try:
            root = store.get_run(run_id).info.artifact_uri
        except MlflowException as error:
            if error.error_code != RESOURCE_DOES_NOT_EXIST:
                raise
    if _is_local(source):
        if root is None or not _is_local(root) or not _within(source, root):
            raise MlflowException(
                f"Invalid model version source: '{source}'. To use a local path as a model "
                f"version source, the {named_by} request parameter has to be specified and the "
                f"local path has to be contained within the artifact directory of the "
                f"{'logged model' if model_id else 'run'} specified by the {named_by}.",
                INVALID_PARAMETER_VALUE,
            )
        return
    _check_no_relative_parts(source)
    scheme = urllib.parse.urlparse(source).scheme
    if scheme == "runs":
        if model_id or urllib.parse.urlparse(source).netloc:
            raise _invalid(source, named_by)
        source_run = source[len("runs:") :].lstrip("/").partition("/")[0]
        if not run_id or source_run != run_id:
            raise _invalid(source, "run_id")
        return
    if scheme == "models":
        parsed = _parsed_models_source(source, "model_id")
        if parsed.model_id is not None and parsed.model_id != model_id:
            raise _invalid(source, "model_id")
        return
    if scheme == "mlflow-artifacts" and (root is None or not _within(source, root)):
        raise _invalid(source, named_by)
