"""Model registry entities: registered models, their versions, tags and aliases (MLflow's names).

A registered model is a named, versioned slot; each :class:`ModelVersion` points at model
artifacts (``source``) and, optionally, the run and logged model that produced them. Aliases
(``champion``) name one version each; stages (``Staging``, ``Production``) are MLflow's legacy
workflow and are kept for ``transition_model_version_stage`` and ``get_latest_versions``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from tracklet.entities._base import _Entity
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException

STAGE_NONE = "None"
STAGE_STAGING = "Staging"
STAGE_PRODUCTION = "Production"
STAGE_ARCHIVED = "Archived"
# A deleted version keeps its number (so numbers are never reused) under this internal stage.
STAGE_DELETED_INTERNAL = "Deleted_Internal"

ALL_STAGES = (STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED)
DEFAULT_STAGES_FOR_GET_LATEST_VERSIONS = (STAGE_STAGING, STAGE_PRODUCTION)
_CANONICAL_STAGES = {stage.lower(): stage for stage in ALL_STAGES}

# Registered models carrying this tag are prompts (MLflow's prompt registry); searches skip them.
IS_PROMPT_TAG_KEY = "mlflow.prompt.is_prompt"


def get_canonical_stage(stage: str) -> str:
    """``"production"`` -> ``"Production"``; anything that is not a stage is refused."""
    canonical = _CANONICAL_STAGES.get(str(stage).lower())
    if canonical is None:
        raise MlflowException(
            f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(ALL_STAGES)}.",
            INVALID_PARAMETER_VALUE,
        )
    return canonical


class ModelVersionStatus(str, Enum):
    """A model version's registration status; tracklet registers synchronously (READY)."""

    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"

    def __str__(self) -> str:
        return self.value

    @staticmethod
    def to_string(status: ModelVersionStatus | str) -> str:
        return ModelVersionStatus(status).value

    @staticmethod
    def from_string(status: str) -> ModelVersionStatus:
        return ModelVersionStatus(status)


@dataclass(frozen=True, slots=True)
class RegisteredModelTag(_Entity):
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class ModelVersionTag(_Entity):
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RegisteredModelAlias(_Entity):
    alias: str
    version: str


@dataclass(frozen=True, slots=True)
class ModelVersion(_Entity):
    """One version of a registered model. ``version`` is the decimal string MLflow's wire uses."""

    name: str
    version: str
    creation_timestamp: int
    last_updated_timestamp: int | None = None
    description: str | None = None
    user_id: str | None = None
    current_stage: str = STAGE_NONE
    source: str | None = None
    run_id: str | None = None
    status: str = ModelVersionStatus.READY.value
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    run_link: str | None = None
    aliases: list[str] = field(default_factory=list)
    model_id: str | None = None


@dataclass(frozen=True, slots=True)
class RegisteredModel(_Entity):
    """A registered model: its name, metadata, tags, aliases and latest version per stage."""

    name: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    latest_versions: list[ModelVersion] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    deployment_job_id: str | None = None
    deployment_job_state: str | None = None
