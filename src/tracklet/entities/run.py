"""Runs: info, data (params, tags, latest metrics), inputs and outputs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from tracklet.entities._base import _Entity
from tracklet.entities.dataset import DatasetInput
from tracklet.entities.metric import Metric


@dataclass(frozen=True, slots=True)
class Param(_Entity):
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RunTag(_Entity):
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RunInfo(_Entity):
    """A run's metadata. ``status`` is the RunStatus name, ``run_uuid`` an alias of ``run_id``."""

    _extra_properties: ClassVar[tuple[str, ...]] = ("run_uuid",)

    run_id: str
    experiment_id: str
    user_id: str
    status: str
    start_time: int | None
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str | None = None
    run_name: str | None = None

    @property
    def run_uuid(self) -> str:
        return self.run_id


@dataclass(frozen=True, slots=True)
class RunData(_Entity):
    """Params, tags and each metric's latest value, as dicts keyed by name."""

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # A tuple, or a LatestMetrics when read from a run pack (its points built on access).
    metric_objs: Sequence[Metric] = ()

    @classmethod
    def from_entities(
        cls,
        metrics: Iterable[Metric] = (),
        params: Iterable[Param] = (),
        tags: Iterable[RunTag] = (),
    ) -> RunData:
        metric_objs = tuple(metrics)
        return cls(
            metrics={m.key: m.value for m in metric_objs},
            params={p.key: p.value for p in params},
            tags={t.key: t.value for t in tags},
            metric_objs=metric_objs,
        )

    @property
    def _metric_objs(self) -> list[Metric]:
        # MLflow's private name, read by some integrations.
        return list(self.metric_objs)


@dataclass(frozen=True, slots=True)
class LoggedModelInput(_Entity):
    """A logged model that a run used as input."""

    model_id: str


@dataclass(frozen=True, slots=True)
class LoggedModelOutput(_Entity):
    """A logged model that a run produced, at a step."""

    model_id: str
    step: int = 0


@dataclass(frozen=True, slots=True)
class RunInputs(_Entity):
    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[LoggedModelInput] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunOutputs(_Entity):
    model_outputs: list[LoggedModelOutput] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Run(_Entity):
    """A run: ``run.info``, ``run.data``, ``run.inputs`` and ``run.outputs``."""

    info: RunInfo
    data: RunData = field(default_factory=RunData)
    inputs: RunInputs = field(default_factory=RunInputs)
    outputs: RunOutputs = field(default_factory=RunOutputs)
