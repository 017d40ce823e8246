"""The one schema definition: SQLAlchemy Core tables for SQLite and PostgreSQL.

Metric points are not stored one row per point. Each (run, metric) has one ``latest_metrics``
row holding the latest value (what search and ``run.data.metrics`` read) and a small *tail*
blob of recent points; full tails and logged batches go into ``metric_chunks`` as blobs of packed
(step, timestamp, value) records (see ``metric_codec``). A synchronous ``log_metric`` is then a
single upsert of one row, and a batch of thousands of points a handful of rows.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    func,
)
from sqlalchemy.engine import Connection

# Alembic's version table under a name of our own, so that a database created by MLflow (which
# has an ``alembic_version`` table of its own) is never mistaken for a tracklet database.
VERSION_TABLE = "tracklet_alembic_version"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid (autoincrementing), not BIGINT.
_BigId = BigInteger().with_variant(Integer(), "sqlite")

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", _BigId, primary_key=True, autoincrement=True),
    Column("name", String(500), nullable=False),
    Column("artifact_location", String(2048)),
    Column("lifecycle_stage", String(32), nullable=False),
    Column("creation_time", BigInteger),
    Column("last_update_time", BigInteger),
    UniqueConstraint("name"),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column(
        "experiment_id",
        _BigId,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", String(20000)),
    PrimaryKeyConstraint("experiment_id", "key"),
)

runs = Table(
    "runs",
    metadata,
    Column("run_uuid", String(32), primary_key=True),
    Column("experiment_id", _BigId, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("name", String(250)),
    Column("user_id", String(256)),
    Column("status", String(20), nullable=False),
    Column("start_time", BigInteger),
    Column("end_time", BigInteger),
    Column("deleted_time", BigInteger),
    Column("lifecycle_stage", String(20), nullable=False),
    Column("artifact_uri", String(2048)),
    # An ended run's params, tags and latest metrics as one text (see ``run_packs``), NULL
    # until it ends and again after any later change to them: a full scan then reads one row
    # a run instead of about fifteen.
    Column("pack", Text),
)
# The default search order, start_time DESC then run_uuid ASC within experiments: walked in
# that order with no sort (ascending start_time would leave each start time's runs to sort).
Index(
    "ix_runs_experiment_id_start_time",
    runs.c.experiment_id,
    runs.c.start_time.desc(),
    runs.c.run_uuid,
)

params = Table(
    "params",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", String(6000), nullable=False),
    PrimaryKeyConstraint("run_uuid", "key"),
)

tags = Table(
    "tags",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", String(8000)),
    PrimaryKeyConstraint("run_uuid", "key"),
)

latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    # NULL when the latest value is NaN (SQLite cannot store NaN in a REAL column).
    Column("value", Float(precision=53)),
    Column("is_nan", Boolean, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    # Points not yet moved to metric_chunks, packed as in metric_codec.
    Column("tail_n", Integer, nullable=False),
    Column("tail", LargeBinary, nullable=False),
    PrimaryKeyConstraint("run_uuid", "key"),
)

metric_chunks = Table(
    "metric_chunks",
    metadata,
    Column("chunk_id", _BigId, primary_key=True, autoincrement=True),
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("n", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Index("ix_metric_chunks_run_uuid_key", "run_uuid", "key", "chunk_id"),
)

datasets = Table(
    "datasets",
    metadata,
    Column("dataset_uuid", String(36), primary_key=True),
    Column(
        "experiment_id",
        _BigId,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(500), nullable=False),
    Column("digest", String(36), nullable=False),
    Column("source_type", String(36), nullable=False),
    Column("source", Text, nullable=False),
    Column("schema", Text),
    Column("profile", Text),
    UniqueConstraint("experiment_id", "name", "digest"),
)

run_dataset_inputs = Table(
    "run_dataset_inputs",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column(
        "dataset_uuid",
        String(36),
        ForeignKey("datasets.dataset_uuid", ondelete="CASCADE"),
        nullable=False,
    ),
    # Insertion order, so run.inputs lists datasets in the order they were logged.
    Column("position", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_uuid", "dataset_uuid"),
)

input_tags = Table(
    "input_tags",
    metadata,
    Column("run_uuid", String(32), nullable=False),
    Column("dataset_uuid", String(36), nullable=False),
    Column("key", String(255), nullable=False),
    Column("value", String(500), nullable=False),
    PrimaryKeyConstraint("run_uuid", "dataset_uuid", "key"),
)

run_model_inputs = Table(
    "run_model_inputs",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("model_id", String(64), nullable=False),
    Column("position", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_uuid", "model_id"),
)

run_model_outputs = Table(
    "run_model_outputs",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("model_id", String(64), nullable=False),
    Column("step", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_uuid", "model_id", "step"),
)

logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(64), primary_key=True),
    Column(
        "experiment_id",
        _BigId,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(500), nullable=False),
    Column("artifact_location", String(2048), nullable=False),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    # LoggedModelStatus as MLflow's enum number (PENDING 1, READY 2, FAILED 3).
    Column("status", Integer, nullable=False),
    Column("status_message", Text),
    Column("model_type", String(500)),
    Column("source_run_id", String(32)),
    Column("lifecycle_stage", String(32), nullable=False),
    Index("ix_logged_models_experiment_id_creation", "experiment_id", "creation_timestamp"),
)

logged_model_tags = Table(
    "logged_model_tags",
    metadata,
    Column(
        "model_id",
        String(64),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", String(8000), nullable=False),
    PrimaryKeyConstraint("model_id", "key"),
)

logged_model_params = Table(
    "logged_model_params",
    metadata,
    Column(
        "model_id",
        String(64),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", String(6000), nullable=False),
    PrimaryKeyConstraint("model_id", "key"),
)

# Every metric point logged with a model_id (model metrics are few; one row per point).
logged_model_metrics = Table(
    "logged_model_metrics",
    metadata,
    Column("point_id", _BigId, primary_key=True, autoincrement=True),
    Column(
        "model_id",
        String(64),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", Float(precision=53)),
    Column("is_nan", Boolean, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("run_uuid", String(32)),
    Column("dataset_name", String(500)),
    Column("dataset_digest", String(36)),
    Index("ix_logged_model_metrics_model_id_key", "model_id", "key"),
    # search_logged_models: ``metrics.acc > x`` ordered by it walks this in value order.
    Index("ix_logged_model_metrics_key_value", "key", "value"),
)

# ------------------------------------------------------------------ model registry (issue 14)
# Names are the keys, as in MLflow: renaming a model cascades into its versions, tags and
# aliases. A deleted version stays as a row in the internal stage ``Deleted_Internal``, so its
# number is never handed out again.
registered_models = Table(
    "registered_models",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("description", String(5000)),
    Column("deployment_job_id", String(256)),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column(
        "name",
        String(256),
        ForeignKey("registered_models.name", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("version", Integer, nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("description", String(5000)),
    Column("user_id", String(256)),
    Column("current_stage", String(20), nullable=False),
    Column("source", Text),
    # Where the artifacts are read from: ``source`` resolved (a logged model's location for a
    # ``models:/m-...`` source, the source version's location for ``models:/name/3``).
    Column("storage_location", Text),
    Column("run_id", String(32)),
    Column("run_link", String(500)),
    Column("status", String(20), nullable=False),
    Column("status_message", String(500)),
    Column("model_id", String(64)),
    PrimaryKeyConstraint("name", "version"),
    # search_model_versions' default order within one model, and across models.
    Index("ix_model_versions_name_last_updated_time", "name", "last_updated_time"),
    Index("ix_model_versions_last_updated_time", "last_updated_time"),
    Index("ix_model_versions_run_id", "run_id"),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column(
        "name",
        String(256),
        ForeignKey("registered_models.name", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", Text),
    PrimaryKeyConstraint("name", "key"),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("name", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text),
    PrimaryKeyConstraint("name", "version", "key"),
    ForeignKeyConstraint(
        ["name", "version"],
        ["model_versions.name", "model_versions.version"],
        onupdate="CASCADE",
        ondelete="CASCADE",
        name="fk_model_version_tags_name_model_versions",
    ),
)

registered_model_aliases = Table(
    "registered_model_aliases",
    metadata,
    Column(
        "name",
        String(256),
        ForeignKey("registered_models.name", onupdate="CASCADE", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("alias", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("name", "alias"),
)

# ------------------------------------------------------------------ traces (issue 12)
# One row per trace; model_id and run_id copy the immutable metadata mlflow.modelId and
# mlflow.sourceRun, so that search_traces(model_id=...) walks an index in the default order
# (timestamp DESC, trace_id) instead of joining metadata rows.
trace_info = Table(
    "trace_info",
    metadata,
    Column("trace_id", String(50), primary_key=True),
    Column(
        "experiment_id",
        _BigId,
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

# ------------------------------------------------------------------ search indexes (issue 3)
# A filter such as ``params.lr = '0.01'`` or ``tags.mlflow.parentRunId = '...'`` seeks on
# (key, value) and yields run ids without reading the table. Param and tag values may be 6000 /
# 8000 characters, past PostgreSQL's btree entry limit (about 2700 bytes), so the index holds a
# prefix of the value: search compares the prefix (the index) and, for values at least this
# long, the whole value too. ``store.sql.search`` builds the same expression.
SEARCH_VALUE_PREFIX = 100

Index(
    "ix_params_key_value_prefix",
    params.c.key,
    func.substr(params.c.value, 1, SEARCH_VALUE_PREFIX),
    params.c.run_uuid,
)
Index(
    "ix_tags_key_value_prefix",
    tags.c.key,
    func.substr(tags.c.value, 1, SEARCH_VALUE_PREFIX),
    tags.c.run_uuid,
)
# ``metrics.acc > 0.5`` and ``order_by=["metrics.acc DESC"]``: a range scan in value order.
Index(
    "ix_latest_metrics_key_value",
    latest_metrics.c.key,
    latest_metrics.c.value,
    latest_metrics.c.run_uuid,
)

# ------------------------------------------------------------------ run packs (issue 3)
# A write to a run's params, tags or latest metrics clears the run's pack, in the writer's own
# transaction, whatever code path wrote it: a pack is never stale. On PostgreSQL the triggers
# also take a shared advisory lock (first key PACK_LOCK_SPACE, second the run's lock bucket,
# hashtext(run_uuid) & PACK_LOCK_BUCKETS - 1); a packer takes its runs' buckets exclusively
# before reading their parts, so a write that commits while a pack is being built always
# clears that pack afterwards. Buckets, not one lock per run: a statement touching 100,000
# runs (deleting an experiment's runs, say) would exhaust PostgreSQL's lock table.
PACK_LOCK_SPACE = 7264
PACK_LOCK_BUCKETS = 64
_PACKED_PARTS = {
    "params": "OLD.value {distinct} NEW.value",
    "tags": "OLD.value {distinct} NEW.value",
    # Most updates of a latest_metrics row append to its tail; only a new latest point matters
    # (SQLite's row triggers check; PostgreSQL's statement triggers drop on any update).
    "latest_metrics": (
        "OLD.value {distinct} NEW.value OR OLD.is_nan <> NEW.is_nan"
        " OR OLD.timestamp <> NEW.timestamp OR OLD.step <> NEW.step"
    ),
}


def pack_trigger_ddl(dialect_name: str) -> list[str]:
    """The statements creating the triggers that clear stale packs."""
    if dialect_name == "sqlite":
        # Row triggers (SQLite has no other kind); each looks the run up by primary key.
        statements = []
        for table, changed in _PACKED_PARTS.items():
            for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
                when = f" WHEN {changed.format(distinct='IS NOT')}" if event == "UPDATE" else ""
                statements.append(
                    f"CREATE TRIGGER tr_{table}_{event.lower()}_unpack AFTER {event} ON {table}"
                    f" FOR EACH ROW{when} BEGIN"
                    f" UPDATE runs SET pack = NULL WHERE run_uuid = {row}.run_uuid"
                    " AND pack IS NOT NULL; END"
                )
        return statements
    # Statement triggers over transition tables: one call per statement, not one per row of a
    # thousand-metric batch.
    statements = [
        "CREATE FUNCTION tracklet_unpack_runs() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  PERFORM pg_advisory_xact_lock_shared({PACK_LOCK_SPACE}, bucket) FROM (\n"
        f"    SELECT DISTINCT hashtext(run_uuid) & {PACK_LOCK_BUCKETS - 1} AS bucket FROM changed\n"
        "    ORDER BY bucket) AS buckets;\n"
        "  UPDATE runs SET pack = NULL\n"
        "    WHERE run_uuid IN (SELECT run_uuid FROM changed) AND pack IS NOT NULL;\n"
        "  RETURN NULL;\n"
        "END $$"
    ]
    for table in _PACKED_PARTS:
        for event, rows in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            statements.append(
                f"CREATE TRIGGER tr_{table}_{event.lower()}_unpack AFTER {event} ON {table}"
                f" REFERENCING {rows} TABLE AS changed FOR EACH STATEMENT"
                " EXECUTE FUNCTION tracklet_unpack_runs()"
            )
    return statements


@event.listens_for(metadata, "after_create")
def _create_pack_triggers(target: MetaData, connection: Connection, **_: object) -> None:
    for statement in pack_trigger_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)
