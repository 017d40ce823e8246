"""Logged models: models tracked on their own, independently of runs (MLflow 3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import ClassVar

from tracklet.entities._base import _Entity
from tracklet.entities.metric import Metric
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException


class LoggedModelStatus(str, Enum):
    """A logged model's status; the wire uses the ``LOGGED_MODEL_*`` names (``to_proto``)."""

    UNSPECIFIED = "UNSPECIFIED"
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"

    def __str__(self) -> str:
        return self.value

    def to_proto(self) -> str:
        return _PROTO_NAMES[self]

    def to_int(self) -> int:
        return _NUMBERS[self]

    def is_finalized(self) -> bool:
        return self in (LoggedModelStatus.READY, LoggedModelStatus.FAILED)

    @classmethod
    def from_any(cls, status: object) -> LoggedModelStatus:
        """A status from its name, its wire name (``LOGGED_MODEL_READY``) or number (2)."""
        if isinstance(status, LoggedModelStatus):
            return status
        if isinstance(status, int) and not isinstance(status, bool):
            for member, number in _NUMBERS.items():
                if number == status:
                    return member
        if isinstance(status, str):
            name = status.upper()
            if name.isdigit():
                return cls.from_any(int(name))
            name = name.removeprefix("LOGGED_MODEL_")
            if name == "UPLOAD_FAILED":
                return cls.FAILED
            if name == "STATUS_UNSPECIFIED":
                return cls.UNSPECIFIED
            if name in cls.__members__:
                return cls[name]
        raise MlflowException(
            f"Invalid logged model status {status!r}: expected one of PENDING, READY, FAILED.",
            INVALID_PARAMETER_VALUE,
        )


_PROTO_NAMES = {
    LoggedModelStatus.UNSPECIFIED: "LOGGED_MODEL_STATUS_UNSPECIFIED",
    LoggedModelStatus.PENDING: "LOGGED_MODEL_PENDING",
    LoggedModelStatus.READY: "LOGGED_MODEL_READY",
    LoggedModelStatus.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}
_NUMBERS = {
    LoggedModelStatus.UNSPECIFIED: 0,
    LoggedModelStatus.PENDING: 1,
    LoggedModelStatus.READY: 2,
    LoggedModelStatus.FAILED: 3,
}


@dataclass(frozen=True, slots=True)
class LoggedModelTag(_Entity):
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class LoggedModelParameter(_Entity):
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class LoggedModel(_Entity):
    """A logged model: ``model_id`` (``m-<32 hex>``), its artifacts, params, tags and metrics."""

    _extra_properties: ClassVar[tuple[str, ...]] = ("model_uri",)

    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    creation_timestamp: int
    last_updated_timestamp: int
    model_type: str | None = None
    source_run_id: str | None = None
    status: LoggedModelStatus = LoggedModelStatus.PENDING
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] | None = None

    @property
    def model_uri(self) -> str:
        """The URI that loads this model: ``models:/<model_id>``."""
        return f"models:/{self.model_id}"
