"""What users call: the fluent API, MlflowClient, and the state they share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracklet.tracking.client import MlflowClient

__all__ = ["MlflowClient"]


def __getattr__(name: str) -> Any:
    # ``from mlflow.tracking import MlflowClient`` works without importing the client eagerly.
    if name == "MlflowClient":
        from tracklet.tracking.client import MlflowClient

        return MlflowClient
    raise AttributeError(name)
