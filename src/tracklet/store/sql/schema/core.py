"""The tracking tables: experiments, runs and their data, datasets, logged models.

Metric points are not stored one row per point. Each (run, metric) has one ``latest_metrics``
row holding the latest value (what search and ``run.data.metrics`` read) and a small *tail*
blob of recent points; full tails and logged batches go into ``metric_chunks`` as blobs of packed
(step, timestamp, value) records (see ``metric_codec``). A synchronous ``log_metric`` is then a
single upsert of one row, and a batch of thousands of points a handful of rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    func,
    literal_column,
    select,
)
from sqlalchemy.engine import Connection

from tracklet.store.sql.change_triggers import change_trigger_ddl
from tracklet.store.sql.pack_triggers import pack_trigger_ddl
from tracklet.store.sql.pg_storage import storage_ddl

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
BigId = BigInteger().with_variant(Integer(), "sqlite")

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", BigId, primary_key=True, autoincrement=True),
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
        BigId,
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
    Column("experiment_id", BigId, ForeignKey("experiments.experiment_id"), nullable=False),
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
    # Creation order: search breaks start_time ties with it (runs started in the same
    # millisecond come back newest first, or oldest first under ``start_time ASC``). Never
    # NULL once written (see ``creation_seq``); declared nullable so that migration 0007 adds it
    # without rebuilding the table on SQLite.
    Column("creation_seq", BigInteger),
    # The store's change cursor: numbered afresh, increasing across the database, whenever the
    # run or its metrics, params or tags are written (``change_triggers``); live updates read
    # the runs numbered above the last number they saw. NULL for runs untouched since 0009.
    Column("change_seq", BigInteger),
)
# The default search order, start_time DESC then creation DESC within experiments: walked in
# that order with no sort, and backwards for ``start_time ASC``.
Index(
    "ix_runs_experiment_id_start_time",
    runs.c.experiment_id,
    runs.c.start_time.desc(),
    runs.c.creation_seq.desc(),
)
# MAX(creation_seq) for the next run on SQLite, and a guarantee that no two runs tie.
Index("ix_runs_creation_seq", runs.c.creation_seq, unique=True)
# PostgreSQL numbers new rows from sequences (concurrent writers); SQLite's single writer
# takes MAX + 1 in the INSERT itself.
RUNS_CREATION_SEQ = Sequence("runs_creation_seq", metadata=metadata)
# Live updates: an experiment's runs changed after a number, and the largest number (MAX).
Index("ix_runs_experiment_id_change_seq", runs.c.experiment_id, runs.c.change_seq)
Index("ix_runs_change_seq", runs.c.change_seq)
RUNS_CHANGE_SEQ = Sequence("runs_change_seq", metadata=metadata)

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
    Column("chunk_id", BigId, primary_key=True, autoincrement=True),
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("n", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Index("ix_metric_chunks_run_uuid_key", "run_uuid", "key", "chunk_id"),
)

# A wide batch (many keys, a few points each) as one row, folded into latest_metrics and
# metric_chunks before anything reads them (``metric_batches``); a row per key would cost four
# index updates a point. Its points' keys, in order: the key set ``key_set_id`` names, or (when
# that is NULL) ``metric_keys``, UTF-8 and separated by NUL (which no key holds), after a 0xFF
# byte in a row of the compact form (``metric_batches.COMPACT_MARK``). Its points:
# when ``step`` and ``timestamp`` are set (every point has them: a step of ``log_metrics``),
# ``data`` is their values (float64, little-endian), else their records (``metric_codec``).
# A 100-key step is then under a kilobyte, several rows to a page (migration 0011).
metric_batches = Table(
    "metric_batches",
    metadata,
    Column("batch_id", BigId, primary_key=True, autoincrement=True),
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("metric_keys", LargeBinary, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("key_set_id", BigInteger),
    Column("step", BigInteger),
    Column("timestamp", BigInteger),
    Index("ix_metric_batches_run_uuid", "run_uuid"),
)

# The key lists of wide batches, each stored once: ``key_set_id`` is a 64-bit digest of
# ``metric_keys`` (NUL-separated UTF-8), so every process names a list alike without asking.
# Rows are only added (a writer registers a list the second time it writes it; see
# ``metric_batches.KeySets``), never changed: a writer may remember them for as long as it runs.
metric_key_sets = Table(
    "metric_key_sets",
    metadata,
    Column("key_set_id", BigId, primary_key=True, autoincrement=False),
    Column("metric_keys", LargeBinary, nullable=False),
)

datasets = Table(
    "datasets",
    metadata,
    Column("dataset_uuid", String(36), primary_key=True),
    Column(
        "experiment_id",
        BigId,
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
        BigId,
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
    # Creation order, the tie-breaker of creation_timestamp (as runs.creation_seq).
    Column("creation_seq", BigInteger),
    Index(
        "ix_logged_models_experiment_id_creation",
        "experiment_id",
        "creation_timestamp",
        "creation_seq",
    ),
    Index("ix_logged_models_creation_seq", "creation_seq", unique=True),
)
LOGGED_MODELS_CREATION_SEQ = Sequence("logged_models_creation_seq", metadata=metadata)

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
    Column("point_id", BigId, primary_key=True, autoincrement=True),
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


def next_creation_seq(table: Table, dialect_name: str) -> Any:
    """The ``creation_seq`` of a row ``table`` is inserting (``runs`` or ``logged_models``)."""
    if dialect_name == "postgresql":
        sequence = RUNS_CREATION_SEQ if table is runs else LOGGED_MODELS_CREATION_SEQ
        return sequence.next_value()
    # Inside the INSERT, under SQLite's write lock: no other writer can take the same number.
    latest = func.max(table.c.creation_seq)
    return select(
        func.coalesce(latest, literal_column("0")) + literal_column("1")
    ).scalar_subquery()


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
# Triggers clear a run's pack whenever its params, tags or latest metrics change
# (``pack_triggers``); a new database gets them with its tables.
@event.listens_for(metadata, "after_create")
def _create_pack_triggers(target: MetaData, connection: Connection, **_: object) -> None:
    for statement in pack_trigger_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)
    for statement in change_trigger_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)
    for statement in storage_ddl(connection.dialect.name):  # metric blobs inline (pg_storage)
        connection.exec_driver_sql(statement)
