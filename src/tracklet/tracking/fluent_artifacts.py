"""The fluent artifact functions (log_artifact, log_artifacts, log_text, get_artifact_uri, ...)."""

from __future__ import annotations

__all__: list[str] = []
