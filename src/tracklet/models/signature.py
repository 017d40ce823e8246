"""ModelSignature: a model's input, output and params schemas, as the MLmodel file holds them
(each schema a JSON string, so the YAML stays compact)."""

from __future__ import annotations

import logging
from typing import Any

from tracklet.types import AnyType, ColSpec, ParamSchema, Schema
from tracklet.types.utils import infer_param_schema, infer_schema

_logger = logging.getLogger(__name__)


class ModelSignature:
    """What a model takes and returns.

    Args:
        inputs: The input schema.
        outputs: The output schema.
        params: The inference params schema.
    """

    def __init__(
        self,
        inputs: Schema | None = None,
        outputs: Schema | None = None,
        params: ParamSchema | None = None,
    ) -> None:
        self.inputs = inputs
        self.outputs = outputs
        self.params = params

    def to_dict(self) -> dict[str, str | None]:
        return {
            "inputs": self.inputs.to_json() if self.inputs else None,
            "outputs": self.outputs.to_json() if self.outputs else None,
            "params": self.params.to_json() if self.params else None,
        }

    @classmethod
    def from_dict(cls, signature_dict: dict[str, Any]) -> ModelSignature:
        inputs = signature_dict.get("inputs")
        outputs = signature_dict.get("outputs")
        params = signature_dict.get("params")
        return cls(
            Schema.from_json(inputs) if inputs else None,
            Schema.from_json(outputs) if outputs else None,
            ParamSchema.from_json(params) if params else None,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelSignature) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return (
            f"inputs:\n  {self.inputs!r}\n"
            f"outputs:\n  {self.outputs!r}\n"
            f"params:\n  {self.params!r}\n"
        )


def infer_signature(
    model_input: Any = None, model_output: Any = None, params: dict[str, Any] | None = None
) -> ModelSignature:
    """The signature of a model from example input, output and params.

    Args:
        model_input: A pandas DataFrame or Series, numpy array, dict of arrays, dict or list.
        model_output: The model's output on ``model_input``, in the same forms.
        params: Example inference params (scalars or lists).

    Returns:
        A ModelSignature; None for absent parts, one column of any type for data that cannot
        be typed.
    """
    return ModelSignature(
        _infer_or_any(model_input, "inputs") if model_input is not None else None,
        _infer_or_any(model_output, "outputs") if model_output is not None else None,
        infer_param_schema(params) if params else None,
    )


def _infer_or_any(data: Any, key: str) -> Schema:
    """The schema of ``data``; one column of any type for data MLflow cannot type (as MLflow)."""
    try:
        return infer_schema(data)
    except Exception:
        _logger.warning(
            "Failed to infer schema for %s. Setting schema to `Schema([ColSpec(type=AnyType())]` "
            "as default.",
            key,
            exc_info=_logger.isEnabledFor(logging.DEBUG),
        )
        return Schema([ColSpec(AnyType())])
