"""Experiments and their tags."""

from __future__ import annotations

from dataclasses import dataclass, field

from tracklet.entities._base import _Entity


@dataclass(frozen=True, slots=True)
class ExperimentTag(_Entity):
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Experiment(_Entity):
    """An experiment: a named group of runs. ``tags`` is a dict, as in MLflow."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None
