"""MLflow 3.17.2's own clients against ``tracklet server --app-name basic-auth``: users made,
permissions granted and revoked through ``mlflow.server.auth.client.AuthServiceClient``, and
403 where a permission is missing, on every route family (experiments, runs, metrics,
artifacts)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from tests.compat.conftest import QUIET_MLFLOW, _free_port, _wait_for_health

from tracklet.server.app import create_app
from tracklet.server.settings import ServerSettings

ADMIN = ("admin", "an admin password")


@pytest.fixture(scope="module")
def auth_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("auth-server")
    saved = dict(os.environ)
    os.environ["TRACKLET_ADMIN_USERNAME"], os.environ["TRACKLET_ADMIN_PASSWORD"] = ADMIN
    try:
        app = create_app(
            ServerSettings(
                backend_store_uri=f"sqlite:///{root / 'server.db'}",
                artifacts_destination=str(root / "mlartifacts"),
                app_name="basic-auth",
                auth_database_uri=f"sqlite:///{root / 'auth.db'}",
            )
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    _wait_for_health(url, 30)
    yield url
    server.should_exit = True
    thread.join(10)


def _as(username: str, password: str) -> None:
    os.environ.update(QUIET_MLFLOW)
    os.environ["MLFLOW_TRACKING_USERNAME"] = username
    os.environ["MLFLOW_TRACKING_PASSWORD"] = password


def test_mlflow_auth_client_and_permissions(auth_url: str, tmp_path: Path) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from mlflow.server.auth.client import AuthServiceClient
    from requests import HTTPError

    _as(*ADMIN)
    auth = AuthServiceClient(auth_url)
    admin = MlflowClient(auth_url)
    created = auth.create_user("bob", "bob password")
    assert (created.username, created.is_admin) == ("bob", False)
    assert auth.get_user("bob").id == created.id
    experiment = admin.create_experiment("team")
    artifact = tmp_path / "notes.txt"
    artifact.write_text("hello")

    _as("bob", "bob password")
    bob = MlflowClient(auth_url)
    assert bob.get_experiment(experiment).name == "team"  # the default permission: READ
    with pytest.raises(MlflowException, match="403"):
        bob.create_run(experiment)

    _as(*ADMIN)
    auth.grant_user_permission("bob", "experiment", experiment, "EDIT")
    checked = auth.get_user_permission("bob", "experiment", experiment)
    assert (checked.permission, checked.allowed) == ("EDIT", True)

    _as("bob", "bob password")
    run = bob.create_run(experiment).info.run_id
    bob.log_metric(run, "loss", 0.5, step=1)
    bob.log_param(run, "lr", "0.1")
    bob.set_tag(run, "t", "v")
    bob.log_artifact(run, str(artifact))
    assert [m.value for m in bob.get_metric_history(run, "loss")] == [0.5]
    assert [f.path for f in bob.list_artifacts(run)] == ["notes.txt"]
    with pytest.raises(MlflowException, match="403"):
        bob.delete_experiment(experiment)  # EDIT cannot delete

    _as(*ADMIN)
    auth.revoke_user_permission("bob", "experiment", experiment)
    assert auth.get_user_permission("bob", "experiment", experiment).permission == "READ"
    auth.grant_user_permission("bob", "experiment", experiment, "NO_PERMISSIONS")

    _as("bob", "bob password")
    for family in (
        lambda: bob.get_experiment(experiment),
        lambda: bob.get_run(run),
        lambda: bob.log_metric(run, "loss", 0.7),
        lambda: bob.get_metric_history(run, "loss"),
        lambda: bob.list_artifacts(run),
        lambda: bob.download_artifacts(run, "notes.txt", str(tmp_path)),
        lambda: bob.log_artifact(run, str(artifact)),
        lambda: auth.grant_user_permission("bob", "experiment", experiment, "MANAGE"),
    ):
        # (MLflow's artifact repository raises requests' HTTPError where others raise its own.)
        with pytest.raises((MlflowException, HTTPError), match="403"):
            family()
    own = bob.create_experiment("bob's")  # any user may create; the creator manages it
    bob.delete_experiment(own)

    _as("bob", "wrong")
    with pytest.raises(MlflowException, match="401"):
        MlflowClient(auth_url).search_experiments()

    _as("bob", "bob password")
    auth.update_user_password("bob", "a new one", current_password="bob password")
    _as(*ADMIN)
    auth.update_user_admin("bob", True)
    assert auth.get_user("bob").is_admin
    auth.delete_user("bob")
    with pytest.raises(MlflowException, match="not found"):
        auth.get_user("bob")


def test_mlflow_client_traces_follow_the_experiment_permission(auth_url: str) -> None:
    """Trace routes follow the trace's experiment: with the default READ, MLflow's client reads
    and searches another user's traces but cannot tag them; EDIT lets it."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from mlflow.server.auth.client import AuthServiceClient

    _as(*ADMIN)
    auth = AuthServiceClient(auth_url)
    auth.create_user("carol", "carol password")
    mlflow.set_tracking_uri(auth_url)
    experiment = mlflow.set_experiment("traced").experiment_id

    @mlflow.trace
    def answer(x: int) -> int:
        return x + 1

    answer(1)
    mlflow.flush_trace_async_logging()
    trace_id = mlflow.get_last_active_trace_id()
    assert trace_id is not None

    _as("carol", "carol password")
    carol = MlflowClient(auth_url)
    assert carol.get_trace(trace_id).data.spans[0].name == "answer"
    found = carol.search_traces(locations=[experiment])
    assert [t.info.trace_id for t in found] == [trace_id]
    with pytest.raises(MlflowException, match=r"403|Permission denied"):
        carol.set_trace_tag(trace_id, "reviewed", "yes")
    _as(*ADMIN)
    auth.grant_user_permission("carol", "experiment", experiment, "EDIT")
    _as("carol", "carol password")
    MlflowClient(auth_url).set_trace_tag(trace_id, "reviewed", "yes")
    assert MlflowClient(auth_url).get_trace(trace_id).info.tags["reviewed"] == "yes"
