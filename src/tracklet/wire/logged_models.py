"""Logged models <-> MLflow's JSON shape (spec §9.3)."""

from __future__ import annotations

from typing import Any

from tracklet.entities import Metric
from tracklet.entities.logged_model import (
    LoggedModel,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
)
from tracklet.wire.codec import MESSAGE_DECODERS, key_values, metric_from_json, metric_to_json
from tracklet.wire.values import as_int, key_value_pair


def logged_model_to_json(model: LoggedModel) -> dict[str, Any]:
    info: dict[str, Any] = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp,
        "last_updated_timestamp_ms": model.last_updated_timestamp,
        "artifact_uri": model.artifact_location,
        "status": LoggedModelStatus.from_any(model.status).to_proto(),
    }
    for key, value in (
        ("model_type", model.model_type),
        ("source_run_id", model.source_run_id),
        ("status_message", model.status_message),
    ):
        if value is not None:
            info[key] = value
    if model.tags:
        info["tags"] = key_values(model.tags)
    data: dict[str, Any] = {}
    if model.params:
        data["params"] = key_values(model.params)
    if model.metrics:
        data["metrics"] = [metric_to_json(m, m.run_id) for m in model.metrics]
    return {"info": info, "data": data}


MESSAGE_DECODERS.update(
    {
        "LoggedModelTag": lambda value, path: LoggedModelTag(*key_value_pair(value, path)),
        "LoggedModelParameter": lambda value, path: LoggedModelParameter(
            *key_value_pair(value, path)
        ),
    }
)


def logged_model_from_json(obj: dict[str, Any]) -> LoggedModel:
    info = obj.get("info", {})
    data = obj.get("data", {})
    metrics: list[Metric] = []
    for i, raw in enumerate(data.get("metrics", [])):
        m = metric_from_json(raw, f"metrics[{i}]")
        metrics.append(
            Metric(
                m.key,
                m.value,
                m.timestamp,
                m.step,
                raw.get("dataset_name"),
                raw.get("dataset_digest"),
                raw.get("model_id"),
                raw.get("run_id"),
            )
        )
    return LoggedModel(
        model_id=info["model_id"],
        experiment_id=str(info.get("experiment_id", "")),
        name=info.get("name", ""),
        artifact_location=info.get("artifact_uri", ""),
        creation_timestamp=as_int(info.get("creation_timestamp_ms", 0), "creation_timestamp_ms"),
        last_updated_timestamp=as_int(
            info.get("last_updated_timestamp_ms", 0), "last_updated_timestamp_ms"
        ),
        model_type=info.get("model_type") or None,
        source_run_id=info.get("source_run_id") or None,
        status=LoggedModelStatus.from_any(info.get("status", "LOGGED_MODEL_STATUS_UNSPECIFIED")),
        status_message=info.get("status_message") or None,
        tags={t["key"]: t.get("value", "") for t in info.get("tags", [])},
        params={p["key"]: p.get("value", "") for p in data.get("params", [])},
        metrics=metrics,
    )
