"""The one schema definition: SQLAlchemy Core tables for SQLite and PostgreSQL, one module per
area (``core``: tracking; ``registry``: the model registry; ``traces``: tracing), all on one
``metadata``. Importing this package defines every table, so ``metadata`` is always whole.

"""

from tracklet.store.sql.schema.core import (
    SEARCH_VALUE_PREFIX,
    VERSION_TABLE,
    datasets,
    experiment_tags,
    experiments,
    input_tags,
    latest_metrics,
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
    metadata,
    metric_batches,
    metric_chunks,
    metric_key_sets,
    next_creation_seq,
    params,
    run_dataset_inputs,
    run_model_inputs,
    run_model_outputs,
    runs,
    tags,
)
from tracklet.store.sql.schema.registry import (
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)
from tracklet.store.sql.schema.traces import (
    spans,
    trace_info,
    trace_metadata,
    trace_run_links,
    trace_tags,
)

__all__ = [
    "SEARCH_VALUE_PREFIX",
    "VERSION_TABLE",
    "datasets",
    "experiment_tags",
    "experiments",
    "input_tags",
    "latest_metrics",
    "logged_model_metrics",
    "logged_model_params",
    "logged_model_tags",
    "logged_models",
    "metadata",
    "metric_batches",
    "metric_chunks",
    "metric_key_sets",
    "model_version_tags",
    "model_versions",
    "next_creation_seq",
    "params",
    "registered_model_aliases",
    "registered_model_tags",
    "registered_models",
    "run_dataset_inputs",
    "run_model_inputs",
    "run_model_outputs",
    "runs",
    "spans",
    "tags",
    "trace_info",
    "trace_metadata",
    "trace_run_links",
    "trace_tags",
]
