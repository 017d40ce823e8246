"""RestStore: the TrackingStore over a tracking server's MLflow REST API (being built)."""

from __future__ import annotations

from tracklet.exceptions import NOT_IMPLEMENTED, MlflowException


class RestStore:
    def __init__(self, tracking_uri: str) -> None:
        raise MlflowException(
            f"Tracking server URIs ({tracking_uri}) are not supported yet", NOT_IMPLEMENTED
        )
