"""Artifacts: ``mlflow.artifacts``' functions, and repositories by URI scheme.

``download_artifacts``, ``list_artifacts``, ``load_text`` and ``load_dict`` take a run id or
an artifact URI: ``runs:/<run_id>/<path>``, ``models:/<model_id>``, a local path, ``file://``,
``s3://``, ``http(s)://`` or ``mlflow-artifacts:``; they live in :mod:`.client_functions`, the
only module here that uses the tracking client. Repositories live in the other submodules
(``base``, ``local``, ``s3``, ``http``, ``registry``), never import the tracking API, and load
only when used.
"""

from __future__ import annotations

from tracklet.artifacts.client_functions import (
    download_artifacts,
    list_artifacts,
    load_dict,
    load_text,
)

__all__ = ["download_artifacts", "list_artifacts", "load_dict", "load_text"]
