"""tracklet's entities: frozen dataclasses shared by every layer, with MLflow's names."""

from typing import TYPE_CHECKING

from tracklet._lazy import load_export
from tracklet.entities.dataset import Dataset, DatasetInput, InputTag
from tracklet.entities.enums import LifecycleStage, RunStatus, SourceType, ViewType
from tracklet.entities.experiment import Experiment, ExperimentTag
from tracklet.entities.file_info import FileInfo
from tracklet.entities.logged_model import (
    LoggedModel,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
)
from tracklet.entities.metric import Metric, MetricHistory
from tracklet.entities.paging import PagedList
from tracklet.entities.run import (
    LoggedModelInput,
    LoggedModelOutput,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunTag,
)

if TYPE_CHECKING:  # loaded on first use (below): tracing's entities cost ~1 ms of every import
    from tracklet.entities.span import (
        Link,
        Span,
        SpanEvent,
        SpanStatus,
        SpanStatusCode,
        SpanType,
    )
    from tracklet.entities.trace import (
        Trace,
        TraceData,
        TraceInfo,
        TraceLocation,
        TraceLocationType,
        TraceState,
    )

# Exported names whose module is imported when one of them is first read.
_LAZY_EXPORTS = {
    **dict.fromkeys(
        ("Link", "Span", "SpanEvent", "SpanStatus", "SpanStatusCode", "SpanType"),
        "tracklet.entities.span",
    ),
    **dict.fromkeys(
        (
            "Trace",
            "TraceData",
            "TraceInfo",
            "TraceLocation",
            "TraceLocationType",
            "TraceState",
        ),
        "tracklet.entities.trace",
    ),
}


def __getattr__(name: str) -> object:
    module = _LAZY_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return load_export(globals(), module, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_EXPORTS})


__all__ = [
    "Dataset",
    "DatasetInput",
    "Experiment",
    "ExperimentTag",
    "FileInfo",
    "InputTag",
    "LifecycleStage",
    "Link",
    "LoggedModel",
    "LoggedModelInput",
    "LoggedModelOutput",
    "LoggedModelParameter",
    "LoggedModelStatus",
    "LoggedModelTag",
    "Metric",
    "MetricHistory",
    "PagedList",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "SourceType",
    "Span",
    "SpanEvent",
    "SpanStatus",
    "SpanStatusCode",
    "SpanType",
    "Trace",
    "TraceData",
    "TraceInfo",
    "TraceLocation",
    "TraceLocationType",
    "TraceState",
    "ViewType",
]
