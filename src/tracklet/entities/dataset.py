"""Datasets as recorded on runs (the wire entity; ``tracklet.data`` builds them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tracklet.entities._base import _Entity


@dataclass(frozen=True, slots=True)
class Dataset(_Entity):
    """A dataset: its identity (name, digest) and JSON texts for source, schema and profile."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class InputTag(_Entity):
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class DatasetInput(_Entity):
    """A dataset used by a run, with tags such as ``mlflow.data.context``."""

    dataset: Dataset
    tags: list[InputTag] = field(default_factory=list)
