"""Dataset schemas, serialized exactly as MLflow serializes them.

A pandas dataset's schema is a ``Schema`` of ``ColSpec`` (stored as ``{"mlflow_colspec": [...]}``);
a numpy dataset's is a ``TensorDatasetSchema`` of ``TensorSpec`` features and targets (stored as
``{"mlflow_tensorspec": {"features": "<json>", "targets": "<json>" | null}}``). The schema types
themselves are :mod:`tracklet.types`', re-exported here as ``mlflow.data.schema`` users expect.
"""

from __future__ import annotations

from typing import Any

from tracklet.types import AnyType, Array, ColSpec, DataType, Object, Schema, TensorSpec

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
