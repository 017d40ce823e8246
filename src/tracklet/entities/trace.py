"""Traces: a :class:`TraceInfo` (id, location, times, state, metadata, tags) and its spans.

Names and JSON forms are MLflow 3.17's (spec §9.6, §9.7): ``TraceInfo.to_dict`` gives
``request_time`` as an RFC 3339 string and ``execution_duration_ms`` as an integer, as
``mlflow.entities.TraceInfo.to_dict`` does.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar

from tracklet.entities._base import _Entity
from tracklet.entities.span import Span, SpanAttributeKey
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException


class TraceMetadataKey:
    """Trace metadata keys of spec §8.2."""

    SCHEMA_VERSION = "mlflow.trace_schema.version"
    INPUTS = "mlflow.traceInputs"
    OUTPUTS = "mlflow.traceOutputs"
    SOURCE_RUN = "mlflow.sourceRun"
    MODEL_ID = "mlflow.modelId"
    SIZE_BYTES = "mlflow.trace.sizeBytes"
    SIZE_STATS = "mlflow.trace.sizeStats"
    TOKEN_USAGE = "mlflow.trace.tokenUsage"
    TRACE_USER = "mlflow.trace.user"
    TRACE_SESSION = "mlflow.trace.session"
    INFO_FINALIZED = "mlflow.trace.infoFinalized"


class TraceTagKey:
    """Trace tags of spec §8.3."""

    TRACE_NAME = "mlflow.traceName"
    ARTIFACT_LOCATION = "mlflow.artifactLocation"
    SPANS_LOCATION = "mlflow.trace.spansLocation"
    LINKED_PROMPTS = "mlflow.linkedPrompts"


SPANS_IN_TRACKING_STORE = "TRACKING_STORE"
TRACE_SCHEMA_VERSION = "3"


class TraceState(str, Enum):
    STATE_UNSPECIFIED = "STATE_UNSPECIFIED"
    OK = "OK"
    ERROR = "ERROR"
    IN_PROGRESS = "IN_PROGRESS"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def from_any(cls, state: object) -> TraceState:
        """A state from its name; MLflow 2's ``TRACE_STATUS_UNSPECIFIED`` is unspecified."""
        if isinstance(state, TraceState):
            return state
        if isinstance(state, str):
            name = state.upper()
            if name in cls.__members__:
                return cls[name]
            if name == "TRACE_STATUS_UNSPECIFIED":
                return cls.STATE_UNSPECIFIED
        raise MlflowException(
            f"Invalid trace state {state!r}: expected one of OK, ERROR, IN_PROGRESS.",
            INVALID_PARAMETER_VALUE,
        )


class TraceLocationType(str, Enum):
    TRACE_LOCATION_TYPE_UNSPECIFIED = "TRACE_LOCATION_TYPE_UNSPECIFIED"
    MLFLOW_EXPERIMENT = "MLFLOW_EXPERIMENT"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class MlflowExperimentLocation(_Entity):
    experiment_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"experiment_id": self.experiment_id}


@dataclass(frozen=True, slots=True)
class TraceLocation(_Entity):
    """Where a trace lives; tracklet stores traces in MLflow experiments only."""

    type: TraceLocationType
    mlflow_experiment: MlflowExperimentLocation | None = None

    @classmethod
    def from_experiment_id(cls, experiment_id: str) -> TraceLocation:
        return cls(TraceLocationType.MLFLOW_EXPERIMENT, MlflowExperimentLocation(experiment_id))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type.value}
        if self.mlflow_experiment is not None:
            out["mlflow_experiment"] = self.mlflow_experiment.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TraceLocation:
        experiment = data.get("mlflow_experiment")
        if data.get("type", "MLFLOW_EXPERIMENT") != "MLFLOW_EXPERIMENT" or not experiment:
            raise MlflowException(
                f"Unsupported trace location {dict(data)!r}: tracklet stores traces in MLflow "
                "experiments (type MLFLOW_EXPERIMENT with mlflow_experiment.experiment_id).",
                INVALID_PARAMETER_VALUE,
            )
        return cls.from_experiment_id(str(experiment["experiment_id"]))


def format_request_time(ms: int) -> str:
    """Milliseconds since the epoch as protobuf JSON's Timestamp (``2026-11-26T03:21:26.100Z``)."""
    moment = dt.datetime.fromtimestamp(ms // 1000, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$")


def parse_request_time(value: object) -> int:
    """A protobuf JSON Timestamp (or a number of milliseconds) as milliseconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    match = _TIMESTAMP.match(str(value))
    if match is None:
        raise MlflowException(f"Invalid request_time {value!r}", INVALID_PARAMETER_VALUE)
    base, fraction, zone = match.groups()
    moment = dt.datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone))
    millis = int((fraction or "0").ljust(3, "0")[:3])
    return int(moment.timestamp()) * 1000 + millis


def format_duration(ms: int) -> str:
    """Milliseconds as protobuf JSON's Duration (``0.071s``)."""
    seconds, millis = divmod(ms, 1000)
    return f"{seconds}.{millis:03d}s" if millis else f"{seconds}s"


def parse_duration(value: object) -> int:
    """A protobuf JSON Duration (``"0.071s"``) or a number of milliseconds, as milliseconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    text = str(value)
    try:
        if not text.endswith("s"):
            raise ValueError(text)
        return round(float(text[:-1]) * 1000)
    except ValueError:
        raise MlflowException(
            f"Invalid execution_duration {value!r}", INVALID_PARAMETER_VALUE
        ) from None


@dataclass(frozen=True, slots=True)
class TraceInfo(_Entity):
    """A trace's metadata (MLflow's TraceInfoV3); times in milliseconds."""

    trace_id: str
    trace_location: TraceLocation
    request_time: int
    state: TraceState
    request_preview: str | None = None
    response_preview: str | None = None
    client_request_id: str | None = None
    execution_duration: int | None = None
    trace_metadata: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    assessments: tuple[Any, ...] = ()

    _extra_properties: ClassVar[tuple[str, ...]] = ()

    @property
    def request_id(self) -> str:
        return self.trace_id

    @property
    def experiment_id(self) -> str | None:
        experiment = self.trace_location.mlflow_experiment
        return None if experiment is None else experiment.experiment_id

    @property
    def request_metadata(self) -> Mapping[str, str]:
        return self.trace_metadata

    @property
    def timestamp_ms(self) -> int:
        return self.request_time

    @property
    def execution_time_ms(self) -> int | None:
        return self.execution_duration

    @property
    def status(self) -> TraceState:
        return self.state

    @property
    def token_usage(self) -> dict[str, int] | None:
        usage = self.trace_metadata.get(TraceMetadataKey.TOKEN_USAGE)
        return json.loads(usage) if usage else None

    def to_dict(self) -> dict[str, Any]:
        """MLflow's ``TraceInfo.to_dict()``: proto JSON names, ``execution_duration_ms``."""
        out: dict[str, Any] = {"trace_id": self.trace_id}
        if self.client_request_id is not None:
            out["client_request_id"] = self.client_request_id
        out["trace_location"] = self.trace_location.to_dict()
        out["request_time"] = format_request_time(self.request_time)
        out["state"] = self.state.value
        if self.trace_metadata:
            out["trace_metadata"] = dict(self.trace_metadata)
        if self.tags:
            out["tags"] = dict(self.tags)
        if self.request_preview is not None:
            out["request_preview"] = self.request_preview
        if self.response_preview is not None:
            out["response_preview"] = self.response_preview
        if self.execution_duration is not None:
            out["execution_duration_ms"] = self.execution_duration
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TraceInfo:
        """From ``to_dict``'s form or the wire's (``execution_duration`` as ``"0.071s"``)."""
        if "trace_id" not in data or "trace_location" not in data:
            raise MlflowException(
                "A trace_info needs trace_id and trace_location.", INVALID_PARAMETER_VALUE
            )
        duration = data.get("execution_duration_ms")
        if duration is None and data.get("execution_duration") is not None:
            duration = parse_duration(data["execution_duration"])
        return cls(
            trace_id=str(data["trace_id"]),
            trace_location=TraceLocation.from_dict(data["trace_location"]),
            request_time=parse_request_time(data.get("request_time", 0)),
            state=TraceState.from_any(data.get("state", "STATE_UNSPECIFIED")),
            request_preview=data.get("request_preview"),
            response_preview=data.get("response_preview"),
            client_request_id=data.get("client_request_id"),
            execution_duration=None if duration is None else int(duration),
            trace_metadata={str(k): str(v) for k, v in (data.get("trace_metadata") or {}).items()},
            tags={str(k): str(v) for k, v in (data.get("tags") or {}).items()},
        )


@dataclass(frozen=True, slots=True)
class TraceData(_Entity):
    """A trace's spans (root first when the store knows it)."""

    spans: Sequence[Span] = ()

    def _root(self) -> Span | None:
        return next((span for span in self.spans if span.parent_id is None), None)

    @property
    def request(self) -> str | None:
        root = self._root()
        return None if root is None else root.raw_attributes.get(SpanAttributeKey.INPUTS)

    @property
    def response(self) -> str | None:
        root = self._root()
        return None if root is None else root.raw_attributes.get(SpanAttributeKey.OUTPUTS)

    def to_dict(self) -> dict[str, Any]:
        return {"spans": [span.to_dict() for span in self.spans]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TraceData:
        return cls(spans=[Span.from_dict(span) for span in data.get("spans") or ()])


@dataclass(frozen=True, slots=True)
class Trace(_Entity):
    """A trace: its info and its spans."""

    info: TraceInfo
    data: TraceData

    @property
    def trace_id(self) -> str:
        return self.info.trace_id

    def to_dict(self) -> dict[str, Any]:
        return {"info": self.info.to_dict(), "data": self.data.to_dict()}

    def to_json(self, pretty: bool = False) -> str:
        return json.dumps(self.to_dict(), indent=2 if pretty else None, default=str)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trace:
        if "info" not in data or "data" not in data:
            raise MlflowException(
                "Unable to parse Trace from dictionary. Expected keys: 'info' and 'data'. "
                f"Received keys: {list(data)}",
                INVALID_PARAMETER_VALUE,
            )
        return cls(TraceInfo.from_dict(data["info"]), TraceData.from_dict(data["data"]))

    @classmethod
    def from_json(cls, text: str) -> Trace:
        return cls.from_dict(json.loads(text))

    def search_spans(
        self,
        span_type: str | None = None,
        name: str | re.Pattern[str] | None = None,
        span_id: str | None = None,
    ) -> list[Span]:
        """The spans matching every criterion given (``name`` may be a compiled regex)."""
        found = []
        for span in self.data.spans:
            if span_type is not None and span.span_type != span_type:
                continue
            if isinstance(name, re.Pattern):
                if not name.fullmatch(span.name):
                    continue
            elif name is not None and span.name != name:
                continue
            if span_id is not None and span.span_id != span_id:
                continue
            found.append(span)
        return found

    def to_pandas_dataframe_row(self) -> dict[str, Any]:
        """One row of ``search_traces(return_type="pandas")``: MLflow's columns."""
        return {
            "trace_id": self.info.trace_id,
            "trace": self.to_json(),
            "client_request_id": self.info.client_request_id,
            "state": self.info.state,
            "request_time": self.info.request_time,
            "execution_duration": self.info.execution_duration,
            "request": _json_or_text(self.data.request),
            "response": _json_or_text(self.data.response),
            "trace_metadata": dict(self.info.trace_metadata),
            "tags": dict(self.info.tags),
            "spans": [span.to_dict() for span in self.data.spans],
            "assessments": [],
        }


def _json_or_text(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value
