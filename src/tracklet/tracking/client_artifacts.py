"""MlflowClient's artifact methods (log_artifact, list_artifacts, download_artifacts, ...)."""

from __future__ import annotations


class ArtifactsClientMixin:
    """Artifact methods of :class:`tracklet.MlflowClient`."""
