"""Dataset schemas, serialized exactly as MLflow serializes them.

A pandas dataset's schema is a ``Schema`` of ``ColSpec`` (stored as ``{"mlflow_colspec": [...]}``);
a numpy dataset's is a ``TensorDatasetSchema`` of ``TensorSpec`` features and targets (stored as
``{"mlflow_tensorspec": {"features": "<json>", "targets": "<json>" | null}}``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Union

from tracklet.data._types import AnyType, Array, ColType, DataType, Object, type_to_dict
from tracklet.exceptions import MlflowException

__all__ = [
    "AnyType",
    "Array",
    "ColSpec",
    "DataType",
    "Object",
    "Schema",
    "TensorDatasetSchema",
    "TensorSpec",
]


class ColSpec:
    """One column: its type, its name (None when unnamed) and whether it may hold nulls."""

    def __init__(self, type: ColType, name: Any = None, required: bool = True) -> None:
        self.type = type
        self.name = name
        self.required = required

    def to_dict(self) -> dict[str, Any]:
        d = type_to_dict(self.type)
        if self.name is not None:
            d["name"] = self.name
        d["required"] = self.required
        return d

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ColSpec)
            and self.name == other.name
            and self.type == other.type
            and self.required == other.required
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        required = "required" if self.required else "optional"
        if self.name is None:
            return f"{self.type!r} ({required})"
        return f"{self.name!r}: {self.type!r} ({required})"


class TensorSpec:
    """One tensor: its numpy dtype, its shape (-1 for the variable first axis) and name."""

    def __init__(self, type: Any, shape: tuple[int, ...], name: Any = None) -> None:
        self.type = type
        self.shape = tuple(shape)
        self.name = name

    @property
    def required(self) -> bool:
        return True

    def to_dict(self) -> dict[str, Any]:
        spec = {"dtype": self.type.name, "shape": self.shape}
        if self.name is None:
            return {"type": "tensor", "tensor-spec": spec}
        return {"name": self.name, "type": "tensor", "tensor-spec": spec}

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TensorSpec)
            and self.name == other.name
            and self.type == other.type
            and self.shape == other.shape
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        tensor = f"Tensor({self.type.name!r}, {self.shape!r})"
        return tensor if self.name is None else f"{self.name!r}: {tensor}"


Spec = Union[ColSpec, TensorSpec]  # noqa: UP007 (a runtime alias)


class Schema:
    """A list of ColSpecs or of TensorSpecs, with MLflow's validity rules."""

    def __init__(self, inputs: list[Spec]) -> None:
        if not inputs:
            raise MlflowException.invalid_parameter_value(
                "Creating Schema with empty inputs is not allowed."
            )
        named = [x.name is not None for x in inputs]
        if any(named) and not all(named):
            raise MlflowException("Creating Schema with a combination of named and unnamed inputs")
        tensors = [isinstance(x, TensorSpec) for x in inputs]
        if any(tensors) and not all(tensors):
            raise MlflowException("Creating Schema with a combination of ColSpec and TensorSpec")
        if all(tensors) and len(inputs) > 1 and not all(named):
            raise MlflowException("Creating Schema with multiple unnamed TensorSpecs")
        if not any(named) and not all(x.required for x in inputs):
            raise MlflowException("Creating Schema with unnamed optional inputs")
        self.inputs = inputs

    def __len__(self) -> int:
        return len(self.inputs)

    def __iter__(self) -> Iterator[Spec]:
        return iter(self.inputs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.inputs == other.inputs

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.inputs)

    def is_tensor_spec(self) -> bool:
        """Whether the inputs are TensorSpecs."""
        return isinstance(self.inputs[0], TensorSpec)

    def input_names(self) -> list[Any]:
        """The input names, or their positions when unnamed."""
        return [x.name or i for i, x in enumerate(self.inputs)]

    def input_types(self) -> list[Any]:
        """The type of each input."""
        return [x.type for x in self.inputs]

    def to_dict(self) -> list[dict[str, Any]]:
        """MLflow's JSON-ready list of input dictionaries."""
        return [x.to_dict() for x in self.inputs]

    def to_json(self) -> str:
        """``json.dumps(self.to_dict())``."""
        return json.dumps(self.to_dict())


class TensorDatasetSchema:
    """The schema of a numpy dataset: its features and (optional) targets."""

    def __init__(self, features: Schema, targets: Schema | None = None) -> None:
        self.features = features
        self.targets = targets

    def to_dict(self) -> dict[str, Any]:
        """``{"mlflow_tensorspec": {"features": <json>, "targets": <json> or None}}``."""
        return {
            "mlflow_tensorspec": {
                "features": self.features.to_json(),
                "targets": self.targets.to_json() if self.targets is not None else None,
            },
        }

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TensorDatasetSchema)
            and self.features == other.features
            and self.targets == other.targets
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"features:\n  {self.features!r}\ntargets:\n  {self.targets!r}\n"
