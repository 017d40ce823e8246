"""SqlStore: the TrackingStore on SQLite or PostgreSQL, composed of one mixin per resource.

How the SQL store is built (and how a new resource joins it):

- ``store_base.SqlStoreBase`` is the core: the engine, the single writer (``self._writer``: one
  connection and one lock, since SQLite has one writer), pooled readers (``self._reader()``),
  the background repacker and WAL checkpointer, ``close`` and the reset after ``fork``.
- Each resource has a mixin ``<resource>_store.py`` subclassing ``SqlStoreBase``: it owns the
  input checks and the transactions of its methods, and nothing else: no ``__init__``, no
  connections of its own. Its SQL statements live in query modules beside it
  (``experiments.py``, ``runs.py``, ``metrics.py``, ...), which take a ``Db`` and never open one.
- ``SqlStore`` below lists the mixins before the base. They share one engine and one writer, so
  every resource's writes are serialised on the same SQLite connection.

A future resource (the model registry, traces) adds ``model_registry_store.py`` /
``trace_store.py`` with a ``...SqlStore(SqlStoreBase)`` mixin, its query modules, its tables in
``schema.py`` (and a migration), and one more base class in the list below.
"""

from __future__ import annotations

from tracklet.store.sql.change_store import ChangeSqlStore
from tracklet.store.sql.experiment_store import ExperimentSqlStore
from tracklet.store.sql.input_store import InputSqlStore
from tracklet.store.sql.logged_model_store import LoggedModelSqlStore
from tracklet.store.sql.metric_store import MetricSqlStore
from tracklet.store.sql.model_registry_store import ModelRegistrySqlStore
from tracklet.store.sql.run_store import RunSqlStore
from tracklet.store.sql.store_base import SqlStoreBase
from tracklet.store.sql.trace_store import TraceSqlStore

__all__ = ["SqlStore"]


class SqlStore(
    ExperimentSqlStore,
    RunSqlStore,
    MetricSqlStore,
    InputSqlStore,
    LoggedModelSqlStore,
    ModelRegistrySqlStore,
    TraceSqlStore,
    ChangeSqlStore,
    SqlStoreBase,
):
    """Experiments, runs and run data in a SQL database (``sqlite:///`` or ``postgresql://``).

    Args:
        tracking_uri: ``sqlite:///path`` or ``postgresql://user@host/db``.
        default_artifact_root: Where new experiments' artifacts go; beside the SQLite file (or
            under the working directory) if None.
    """
