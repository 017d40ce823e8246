"""MLflow Models: the MLmodel format, signatures and input examples shared by the flavors."""

from tracklet.models.model import MLMODEL_FILE_NAME, Model, ModelInfo
from tracklet.models.signature import ModelSignature, infer_signature
from tracklet.types import ColSpec, DataType, ParamSchema, ParamSpec, Schema, TensorSpec

# The evaluation API imports the tracking API and pyfunc, which import this package: it is loaded
# on first access (``tracklet.models.evaluate``), never at import.
_EVALUATION = frozenset({"EvaluationArtifact", "EvaluationResult", "evaluate"})


def __getattr__(name: str) -> object:
    if name in _EVALUATION:
        from tracklet.models import evaluation

        return getattr(evaluation, name)
    raise AttributeError(f"module 'tracklet.models' has no attribute {name!r}")


__all__ = [
    "MLMODEL_FILE_NAME",
    "ColSpec",
    "DataType",
    "EvaluationArtifact",
    "EvaluationResult",
    "Model",
    "ModelInfo",
    "ModelSignature",
    "ParamSchema",
    "ParamSpec",
    "Schema",
    "TensorSpec",
    "evaluate",
    "infer_signature",
]
