"""The columns of MLflow 3.17.2's SQL tables that import and export read and write.

Lightweight ``sa.table`` descriptions (no reflection, no metadata): enough to build SQLAlchemy
Core statements for either dialect. MLflow's own names are kept (``dataset_source_type``,
``creation_timestamp_ms``, ``request_id``, ...).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.expression import TableClause


def _t(name: str, *columns: str) -> TableClause:
    return sa.table(name, *(sa.column(c) for c in columns))


experiments = _t(
    "experiments",
    "experiment_id",
    "name",
    "artifact_location",
    "lifecycle_stage",
    "creation_time",
    "last_update_time",
)
experiment_tags = _t("experiment_tags", "key", "value", "experiment_id")
runs = _t(
    "runs",
    "run_uuid",
    "name",
    "source_type",
    "source_name",
    "entry_point_name",
    "user_id",
    "status",
    "start_time",
    "end_time",
    "deleted_time",
    "source_version",
    "lifecycle_stage",
    "artifact_uri",
    "experiment_id",
)
params = _t("params", "key", "value", "run_uuid")
tags = _t("tags", "key", "value", "run_uuid")
metrics = _t("metrics", "key", "value", "timestamp", "run_uuid", "step", "is_nan")
latest_metrics = _t("latest_metrics", "key", "value", "timestamp", "step", "is_nan", "run_uuid")
datasets = _t(
    "datasets",
    "dataset_uuid",
    "experiment_id",
    "name",
    "digest",
    "dataset_source_type",
    "dataset_source",
    "dataset_schema",
    "dataset_profile",
)
inputs = _t(
    "inputs",
    "input_uuid",
    "source_type",
    "source_id",
    "destination_type",
    "destination_id",
    "step",
)
input_tags = _t("input_tags", "input_uuid", "name", "value")
logged_models = _t(
    "logged_models",
    "model_id",
    "experiment_id",
    "name",
    "artifact_location",
    "creation_timestamp_ms",
    "last_updated_timestamp_ms",
    "status",
    "lifecycle_stage",
    "model_type",
    "source_run_id",
    "status_message",
)
logged_model_tags = _t("logged_model_tags", "model_id", "experiment_id", "tag_key", "tag_value")
logged_model_params = _t(
    "logged_model_params", "model_id", "experiment_id", "param_key", "param_value"
)
logged_model_metrics = _t(
    "logged_model_metrics",
    "model_id",
    "metric_name",
    "metric_timestamp_ms",
    "metric_step",
    "metric_value",
    "experiment_id",
    "run_id",
    "dataset_uuid",
    "dataset_name",
    "dataset_digest",
)
registered_models = _t(
    "registered_models", "name", "creation_time", "last_updated_time", "description"
)
model_versions = _t(
    "model_versions",
    "name",
    "version",
    "creation_time",
    "last_updated_time",
    "description",
    "user_id",
    "current_stage",
    "source",
    "run_id",
    "status",
    "status_message",
    "run_link",
    "storage_location",
)
registered_model_tags = _t("registered_model_tags", "key", "value", "name")
model_version_tags = _t("model_version_tags", "key", "value", "name", "version")
registered_model_aliases = _t("registered_model_aliases", "alias", "version", "name")
trace_info = _t(
    "trace_info",
    "request_id",
    "experiment_id",
    "timestamp_ms",
    "execution_time_ms",
    "status",
    "client_request_id",
    "request_preview",
    "response_preview",
    "trace_name",
)
trace_tags = _t("trace_tags", "key", "value", "request_id")
trace_request_metadata = _t("trace_request_metadata", "key", "value", "request_id")
spans = _t(
    "spans",
    "trace_id",
    "experiment_id",
    "span_id",
    "parent_span_id",
    "name",
    "type",
    "status",
    "start_time_unix_nano",
    "end_time_unix_nano",
    "content",
)
alembic_version = _t("alembic_version", "version_num")


def names(table: TableClause, *leave_out: str) -> tuple[str, ...]:
    """A table's column names in order (the rows import and export copy as they are)."""
    return tuple(c.name for c in table.columns if c.name not in leave_out)


# The span columns tracklet's ``spans`` table shares with MLflow's (all but experiment_id).
SPAN_FIELDS = names(spans, "experiment_id")
VERSION_FIELDS = names(model_versions)
