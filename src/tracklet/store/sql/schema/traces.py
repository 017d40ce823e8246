"""The tracing tables: trace infos, their tags and metadata, spans and links to runs."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from tracklet.store.sql.schema.core import BigId, metadata

# One row per trace; model_id and run_id copy the immutable metadata mlflow.modelId and
# mlflow.sourceRun, so that search_traces(model_id=...) walks an index in the default order
# (timestamp DESC, trace_id) instead of joining metadata rows.
trace_info = Table(
    "trace_info",
    metadata,
    Column("trace_id", String(50), primary_key=True),
    Column(
        "experiment_id",
        BigId,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("execution_time_ms", BigInteger),
    Column("status", String(50), nullable=False),
    Column("client_request_id", String(250)),
    Column("request_preview", Text),
    Column("response_preview", Text),
    Column("name", String(500)),
    Column("model_id", String(64)),
    Column("run_id", String(32)),
)
Index(
    "ix_trace_info_experiment_id_timestamp",
    trace_info.c.experiment_id,
    trace_info.c.timestamp_ms.desc(),
    trace_info.c.trace_id,
)
Index(
    "ix_trace_info_model_id_timestamp",
    trace_info.c.model_id,
    trace_info.c.timestamp_ms.desc(),
    trace_info.c.trace_id,
)
Index(
    "ix_trace_info_run_id_timestamp",
    trace_info.c.run_id,
    trace_info.c.timestamp_ms.desc(),
    trace_info.c.trace_id,
)


def _trace_key_values(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column(
            "trace_id",
            String(50),
            ForeignKey("trace_info.trace_id", ondelete="CASCADE"),
            nullable=False,
        ),
        Column("key", String(250), nullable=False),
        Column("value", Text),
        PrimaryKeyConstraint("trace_id", "key"),
    )


trace_tags = _trace_key_values("trace_tags")
trace_metadata = _trace_key_values("trace_metadata")

# Spans as MLflow's SQL store keeps them: the span's JSON (``content``, MLflow's span
# dictionary) beside the columns that span.* filters compare.
spans = Table(
    "spans",
    metadata,
    Column(
        "trace_id",
        String(50),
        ForeignKey("trace_info.trace_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("span_id", String(50), nullable=False),
    Column("parent_span_id", String(50)),
    Column("name", Text),
    Column("type", String(500)),
    Column("status", String(50), nullable=False),
    Column("start_time_unix_nano", BigInteger, nullable=False),
    Column("end_time_unix_nano", BigInteger),
    Column("content", Text, nullable=False),
    PrimaryKeyConstraint("trace_id", "span_id"),
)

# Traces linked to a run after the fact (link_traces_to_run); run_id searches find them too.
trace_run_links = Table(
    "trace_run_links",
    metadata,
    Column(
        "trace_id",
        String(50),
        ForeignKey("trace_info.trace_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("run_id", String(32), nullable=False),
    PrimaryKeyConstraint("trace_id", "run_id"),
    Index("ix_trace_run_links_run_id", "run_id"),
)
