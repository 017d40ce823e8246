"""Fixtures shared by every test: isolated state, and real stores on SQLite and PostgreSQL.

Store tests take the ``store_uri`` (or ``store``) fixture, parametrized over a fresh SQLite file
and a fresh schema of the machine's PostgreSQL (``TRACKLET_TEST_POSTGRES_URI``, default
``postgresql://postgres@127.0.0.1:5432/test``). PostgreSQL is real, never mocked: if it is not
reachable, its tests fail rather than skip.
"""

from __future__ import annotations

import os
import sys
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracklet import env
from tracklet.store import schemes
from tracklet.store.sql.store import SqlStore
from tracklet.tracking import _state
from tracklet.tracking import fluent as _fluent

POSTGRES_URI = env.TRACKLET_TEST_POSTGRES_URI.get() or "postgresql://postgres@127.0.0.1:5432/test"


def _clear_tracking_environment() -> None:
    for name in list(os.environ):
        if name.startswith("MLFLOW_") or (
            name.startswith("TRACKLET_") and name != "TRACKLET_TEST_POSTGRES_URI"
        ):
            del os.environ[name]


@pytest.fixture(scope="module", autouse=True)
def _module_environment() -> Iterator[None]:
    """Module-scoped fixtures run before ``_isolated``: give them a clean environment too, and
    take back what they set (``set_experiment`` exports MLFLOW_EXPERIMENT_ID, say)."""
    saved_env = dict(os.environ)
    _clear_tracking_environment()
    yield
    os.environ.clear()
    os.environ.update(saved_env)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test: its own working directory, environment and tracking state."""
    saved_env = dict(os.environ)
    _clear_tracking_environment()
    monkeypatch.chdir(tmp_path)
    _state.reset()
    yield
    for flush in _state.trace_flushers:  # traces still being written go to this test's store
        flush()
    while _state.run_stack():
        try:
            _fluent.end_run()
        except Exception:
            _state.run_stack().pop()
    _state.reset()
    schemes.reset()
    _reset_autolog_configuration()
    _reset_mlflow_state()
    os.environ.clear()
    os.environ.update(saved_env)


def _reset_autolog_configuration() -> None:
    """Forget every flavor's autolog() configuration. A flavor a test configured itself, even
    with ``disable=True``, is one a later ``tracklet.autolog()`` leaves alone (as MLflow's
    does): the quick-start test's sklearn example logged nothing after the deferred-logging
    tests. Patches left installed pass straight through an unconfigured flavor."""
    config = sys.modules.get("tracklet.autolog._config")
    if config is not None:
        config.INTEGRATIONS.clear()


def _reset_mlflow_state() -> None:
    """MLflow (a test-only dependency) keeps process globals of its own: the active experiment,
    run stack and active model. Tests that drive it must not leak them into the next test."""
    mlflow = sys.modules.get("mlflow")
    if mlflow is None:
        return
    while mlflow.active_run() is not None:
        mlflow.end_run()
    # MLflow 3 keeps an active model (autologging and log_model set it); a later test's
    # log_metric would link its points to that model, in another test's database.
    mlflow.clear_active_model()
    fluent = sys.modules.get("mlflow.tracking.fluent")
    if fluent is not None:
        fluent._active_experiment_id = None  # type: ignore[attr-defined]
        # clear_active_model clears this thread's only, but MLflow links metrics to the active
        # model of any thread (one autologging left in a training thread, say): forget them all.
        fluent._ACTIVE_MODEL_CONTEXT.reset()  # type: ignore[attr-defined]
    mlflow.set_tracking_uri(None)


def _postgres_schema_uri(schema: str) -> str:
    separator = "&" if "?" in POSTGRES_URI else "?"
    options = urllib.parse.quote(f"-csearch_path={schema}")
    return f"{POSTGRES_URI}{separator}options={options}"


@pytest.fixture
def postgres_uri() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema, dropped afterwards."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URI.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield _postgres_schema_uri(schema)
    finally:
        schemes.reset()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def sqlite_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_uri(request: pytest.FixtureRequest) -> str:
    """A fresh database URI, once for SQLite and once for PostgreSQL."""
    name = "sqlite_uri" if request.param == "sqlite" else "postgres_uri"
    return str(request.getfixturevalue(name))


@pytest.fixture
def store(store_uri: str, tmp_path: Path) -> Iterator[SqlStore]:
    sql_store = SqlStore(store_uri, default_artifact_root=str(tmp_path / "artifacts"))
    yield sql_store
    sql_store.close()


@pytest.fixture
def tracking_uri(store_uri: str) -> Iterator[str]:
    """The fluent API pointed at a fresh store (SQLite and PostgreSQL)."""
    os.environ["MLFLOW_TRACKING_URI"] = store_uri
    yield store_uri
    for flush in _state.trace_flushers:  # write pending traces before the store goes away
        flush()


# The standing probe suite's counts (issue 9): tests record what they really sent with
# ``record_property(name, count)``; the totals are printed at the end of every run. User
# properties travel with the reports, so the sums hold under xdist too.
PROBE_COUNTS = {
    "traversal_probes": "traversal/LFI probes over the artifact routes and location forms",
    "fuzzed_requests_sqlite": "fuzzed requests on SQLite",
    "fuzzed_requests_postgres": "fuzzed requests on PostgreSQL",
    "fuzzed_5xx": "fuzzed requests answered 5xx",
}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    totals = dict.fromkeys(PROBE_COUNTS, 0)
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for name, value in getattr(report, "user_properties", ()):
                if name in totals:
                    totals[name] += int(value)
    if any(totals.values()):
        fuzzed = totals["fuzzed_requests_sqlite"] + totals["fuzzed_requests_postgres"]
        terminalreporter.write_sep("-", "probe suite (issue 9)")
        for name, label in PROBE_COUNTS.items():
            terminalreporter.write_line(f"{totals[name]:>9,} {label}")
        terminalreporter.write_line(f"{fuzzed:>9,} fuzzed requests in all")
