"""The URI-scheme lookup: shared stores (``get_store``), owned ones (``open_store``) and what a
store says about itself (``is_local``), which the server asks instead of checking types."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracklet.exceptions import MlflowException
from tracklet.store import schemes
from tracklet.store.base import TrackingStore
from tracklet.store.rest.store import RestStore
from tracklet.store.sql.store import SqlStore


def test_open_store_gives_the_sql_store_its_artifact_root(sqlite_uri: str, tmp_path: Path) -> None:
    root = str(tmp_path / "server-artifacts")
    store = schemes.open_store(sqlite_uri, root)
    try:
        assert isinstance(store, SqlStore)
        assert store is not schemes.get_store(sqlite_uri)  # owned by the caller, not shared
        assert store.get_experiment("0").artifact_location == f"{root}/0"
        assert store.quick_calls is True
        assert store.is_local is True
    finally:
        store.close()


def test_get_store_is_shared_per_uri(sqlite_uri: str) -> None:
    assert schemes.get_store(sqlite_uri) is schemes.get_store(sqlite_uri)


@pytest.mark.postgres
def test_postgresql_store_makes_quick_calls(postgres_uri: str, tmp_path: Path) -> None:
    store = schemes.open_store(postgres_uri, str(tmp_path))
    try:
        assert store.quick_calls is True  # its own database: a server's event loop may call it
        assert store.is_local is False  # but each call is a round trip
    finally:
        store.close()


def test_rest_store_calls_are_not_quick() -> None:
    store = schemes.open_store("http://127.0.0.1:5000", "/ignored/by/the/remote/server")
    try:
        assert isinstance(store, RestStore)
        assert isinstance(store, TrackingStore)
        assert store.quick_calls is False
        assert store.is_local is False
    finally:
        store.close()


def test_open_store_refuses_a_plain_path(tmp_path: Path) -> None:
    with pytest.raises(MlflowException, match="plain path") as caught:
        schemes.open_store(str(tmp_path / "mlruns"))
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
