"""What ``evaluate`` returns: an :class:`EvaluationResult` (metrics, artifacts, run id) whose
artifacts are MLflow's kinds (an image, a CSV table, a JSON file), each with its ``uri`` in the
run and its ``content`` loaded from the file that was logged."""

from __future__ import annotations

import json
from typing import Any


class EvaluationArtifact:
    """An artifact ``evaluate`` logged: where it is and what it holds.

    Args:
        uri: The artifact's URI in the run's artifact store.
        content: Its content (loaded from ``local_path`` if None).
        local_path: The file that was logged, to load the content from.
    """

    def __init__(self, uri: str, content: Any = None, local_path: str | None = None) -> None:
        self._uri = uri
        self._content = content
        if content is None and local_path is not None:
            self._content = self._load(local_path)

    def _load(self, path: str) -> Any:
        with open(path, "rb") as f:
            return f.read()

    @property
    def uri(self) -> str:
        """The artifact's URI in the run."""
        return self._uri

    @property
    def content(self) -> Any:
        """The artifact's content (a PIL image, a DataFrame, a parsed JSON value, ...)."""
        return self._content

    def __repr__(self) -> str:
        return f"{type(self).__name__}(uri='{self._uri}')"


class ImageEvaluationArtifact(EvaluationArtifact):
    """A PNG plot; ``content`` is a PIL image."""

    def _load(self, path: str) -> Any:
        from PIL import Image

        with Image.open(path) as image:
            image.load()
            return image.copy()


class CsvEvaluationArtifact(EvaluationArtifact):
    """A CSV table; ``content`` is a pandas DataFrame."""

    def _load(self, path: str) -> Any:
        import pandas as pd

        return pd.read_csv(path)


class JsonEvaluationArtifact(EvaluationArtifact):
    """A JSON file; ``content`` is the parsed value."""

    def _load(self, path: str) -> Any:
        with open(path, encoding="utf-8") as f:
            return json.load(f)


class EvaluationResult:
    """The outcome of ``evaluate``: scalar metrics and artifacts, as logged to ``run_id``.

    Args:
        metrics: Metric name -> value.
        artifacts: Artifact name (e.g. ``"confusion_matrix"``) -> EvaluationArtifact.
        run_id: The run they were logged to.
    """

    def __init__(
        self,
        metrics: dict[str, Any],
        artifacts: dict[str, EvaluationArtifact],
        run_id: str | None = None,
    ) -> None:
        self._metrics = metrics
        self._artifacts = artifacts
        self._run_id = run_id

    @property
    def metrics(self) -> dict[str, Any]:
        """Metric name -> scalar value (MLflow's names, e.g. ``accuracy_score``)."""
        return self._metrics

    @property
    def artifacts(self) -> dict[str, EvaluationArtifact]:
        """Artifact name -> artifact (e.g. ``roc_curve_plot``, ``per_class_metrics``)."""
        return self._artifacts

    @property
    def run_id(self) -> str | None:
        """The run the results were logged to."""
        return self._run_id

    def __repr__(self) -> str:
        return f"EvaluationResult(metrics={self._metrics}, artifacts={list(self._artifacts)})"
