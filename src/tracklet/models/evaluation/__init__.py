"""Model evaluation (``tracklet.models.evaluate``, also ``tracklet.evaluate``): MLflow 3.17.2's
default evaluator for classifiers and regressors; see :mod:`tracklet.models.evaluation.base`."""

from tracklet.models.evaluation.artifacts import (
    CsvEvaluationArtifact,
    EvaluationArtifact,
    EvaluationResult,
    ImageEvaluationArtifact,
    JsonEvaluationArtifact,
)
from tracklet.models.evaluation.base import evaluate

__all__ = [
    "CsvEvaluationArtifact",
    "EvaluationArtifact",
    "EvaluationResult",
    "ImageEvaluationArtifact",
    "JsonEvaluationArtifact",
    "evaluate",
]
