"""MLflow Models: the MLmodel format, signatures and input examples shared by the flavors."""

from tracklet.models.model import MLMODEL_FILE_NAME, Model, ModelInfo
from tracklet.models.signature import ModelSignature, infer_signature
from tracklet.types import ColSpec, DataType, ParamSchema, ParamSpec, Schema, TensorSpec

__all__ = [
    "MLMODEL_FILE_NAME",
    "ColSpec",
    "DataType",
    "Model",
    "ModelInfo",
    "ModelSignature",
    "ParamSchema",
    "ParamSpec",
    "Schema",
    "TensorSpec",
    "infer_signature",
]
