"""Registered models and model versions <-> MLflow's JSON (``model_registry.proto`` shapes).

What MLflow's ``to_proto`` leaves unset is left out here too (an unset proto field is absent
from the JSON); ``model_id`` is sent when known (a proto field MLflow's own server leaves out).
"""

from __future__ import annotations

from typing import Any

from tracklet.entities.model_registry import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
)
from tracklet.wire.codec import MESSAGE_DECODERS, key_values
from tracklet.wire.values import key_value_pair

JsonObject = dict[str, Any]


def model_version_to_json(version: ModelVersion) -> JsonObject:
    out: JsonObject = {
        "name": version.name,
        "version": str(version.version),
        "creation_timestamp": version.creation_timestamp,
    }
    for key, value in (
        ("last_updated_timestamp", version.last_updated_timestamp),
        ("user_id", version.user_id),
        ("current_stage", version.current_stage),
        ("description", version.description),
        ("source", version.source),
        ("run_id", version.run_id),
        ("status", str(version.status)),
        ("status_message", version.status_message or None),
        ("run_link", version.run_link),
        ("model_id", version.model_id),
    ):
        if value is not None:
            out[key] = value
    if version.tags:
        out["tags"] = key_values(version.tags)
    if version.aliases:
        out["aliases"] = list(version.aliases)
    return out


def registered_model_to_json(model: RegisteredModel) -> JsonObject:
    out: JsonObject = {"name": model.name}
    if model.creation_timestamp is not None:
        out["creation_timestamp"] = model.creation_timestamp
    if model.last_updated_timestamp:
        out["last_updated_timestamp"] = model.last_updated_timestamp
    if model.description:
        out["description"] = model.description
    if model.latest_versions:
        out["latest_versions"] = [model_version_to_json(v) for v in model.latest_versions]
    if model.deployment_job_id:
        out["deployment_job_id"] = model.deployment_job_id
    if model.tags:
        out["tags"] = key_values(model.tags)
    if model.aliases:
        out["aliases"] = [{"alias": a, "version": str(v)} for a, v in model.aliases.items()]
    return out


def _tags(obj: JsonObject) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in obj.get("tags", []) if "key" in t}


def model_version_from_json(obj: JsonObject) -> ModelVersion:
    """A version from a server's JSON; MLflow sends empty strings for unset text fields."""
    return ModelVersion(
        name=obj.get("name", ""),
        version=str(obj.get("version", "")),
        creation_timestamp=int(obj.get("creation_timestamp", 0)),
        last_updated_timestamp=(
            int(obj["last_updated_timestamp"]) if "last_updated_timestamp" in obj else None
        ),
        description=obj.get("description"),
        user_id=obj.get("user_id") or None,
        current_stage=obj.get("current_stage", "None"),
        source=obj.get("source"),
        run_id=obj.get("run_id") or None,
        status=obj.get("status", "READY"),
        status_message=obj.get("status_message") or None,
        tags=_tags(obj),
        run_link=obj.get("run_link") or None,
        aliases=list(obj.get("aliases", [])),
        model_id=obj.get("model_id") or None,
    )


def registered_model_from_json(obj: JsonObject) -> RegisteredModel:
    return RegisteredModel(
        name=obj.get("name", ""),
        creation_timestamp=obj.get("creation_timestamp"),
        last_updated_timestamp=obj.get("last_updated_timestamp"),
        description=obj.get("description"),
        latest_versions=[model_version_from_json(v) for v in obj.get("latest_versions", [])],
        tags=_tags(obj),
        aliases={a["alias"]: str(a["version"]) for a in obj.get("aliases", [])},
        deployment_job_id=obj.get("deployment_job_id") or None,
    )


MESSAGE_DECODERS.update(
    {
        "RegisteredModelTag": lambda value, path: RegisteredModelTag(*key_value_pair(value, path)),
        "ModelVersionTag": lambda value, path: ModelVersionTag(*key_value_pair(value, path)),
    }
)
