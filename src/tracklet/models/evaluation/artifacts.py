"""What ``evaluate`` returns: an :class:`EvaluationResult` (metrics, artifacts, run id) whose
artifacts are MLflow's kinds (an image, a CSV table, a JSON file), each with its ``uri`` in the
run and its ``content`` loaded from the file that was logged."""

from __future__ import annotations

import json
import os
import posixpath
import urllib.parse
from typing import Any

# save() writes MLflow's class names, so mlflow's EvaluationResult.load reads tracklet's too.
_MLFLOW_MODULE = "mlflow.models.evaluation.artifacts"


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

    def _save(self, path: str) -> None:
        with open(path, "wb") as f:
            f.write(self._content)

    @property
    def file_name(self) -> str:
        """The artifact's file name (the last part of its URI's path)."""
        return posixpath.basename(urllib.parse.urlparse(self._uri).path)

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

    def _save(self, path: str) -> None:
        self._content.save(path)


class CsvEvaluationArtifact(EvaluationArtifact):
    """A CSV table; ``content`` is a pandas DataFrame."""

    def _load(self, path: str) -> Any:
        import pandas as pd

        return pd.read_csv(path)

    def _save(self, path: str) -> None:
        self._content.to_csv(path, index=False)


class JsonEvaluationArtifact(EvaluationArtifact):
    """A JSON file; ``content`` is the parsed value."""

    def _load(self, path: str) -> Any:
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def _save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self._content, f)


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

    def save(self, path: str) -> None:
        """Write the results to a local directory in MLflow's layout (``metrics.json``,
        ``artifacts_metadata.json``, ``artifacts/``), which ``load`` (tracklet's or MLflow's)
        reads back.

        Args:
            path: The directory (made if missing).
        """
        os.makedirs(os.path.join(path, "artifacts"), exist_ok=True)
        with open(os.path.join(path, "metrics.json"), "w", encoding="utf-8") as f:
            json.dump(self._metrics, f, default=float)
        metadata = {
            name: {"uri": a.uri, "class_name": f"{_MLFLOW_MODULE}.{type(a).__name__}"}
            for name, a in self._artifacts.items()
        }
        with open(os.path.join(path, "artifacts_metadata.json"), "w", encoding="utf-8") as f:
            json.dump(metadata, f)
        for artifact in self._artifacts.values():
            artifact._save(os.path.join(path, "artifacts", artifact.file_name))

    @classmethod
    def load(cls, path: str) -> EvaluationResult:
        """Read results written by ``save`` (tracklet's or MLflow's).

        Args:
            path: The directory ``save`` wrote.

        Returns:
            The EvaluationResult (without a run id, as MLflow's).
        """
        with open(os.path.join(path, "metrics.json"), encoding="utf-8") as f:
            metrics = json.load(f)
        with open(os.path.join(path, "artifacts_metadata.json"), encoding="utf-8") as f:
            metadata = json.load(f)
        kinds = {k.__name__: k for k in (ImageEvaluationArtifact, CsvEvaluationArtifact,
                                          JsonEvaluationArtifact)}  # fmt: skip
        artifacts: dict[str, EvaluationArtifact] = {}
        for name, meta in metadata.items():
            kind = kinds.get(meta["class_name"].rsplit(".", 1)[-1], EvaluationArtifact)
            file_name = posixpath.basename(urllib.parse.urlparse(meta["uri"]).path)
            local = os.path.join(path, "artifacts", file_name)
            artifacts[name] = kind(uri=meta["uri"], local_path=local)
        return cls(metrics, artifacts)

    def __repr__(self) -> str:
        return f"EvaluationResult(metrics={self._metrics}, artifacts={list(self._artifacts)})"
