"""ModelSignature: a model's input, output and params schemas, as the MLmodel file holds them
(each schema a JSON string, so the YAML stays compact)."""

from __future__ import annotations

from typing import Any

from tracklet.models.infer import infer_param_schema, infer_schema
from tracklet.models.schema import ParamSchema, Schema


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
        A ModelSignature with the schemas that could be inferred (None for absent parts).
    """
    return ModelSignature(
        infer_schema(model_input) if model_input is not None else None,
        infer_schema(model_output) if model_output is not None else None,
        infer_param_schema(params) if params else None,
    )
