"""A RestStore wired to the in-process server app through an httpx transport (no socket)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracklet.server.app import create_app
from tracklet.server.settings import ServerSettings
from tracklet.store.rest.store import RestStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette prefers httpx2; httpx is what we have
    from starlette.testclient import TestClient


@pytest.fixture
def rest_store(tmp_path: Path) -> Iterator[RestStore]:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}",
        artifacts_destination=str(tmp_path / "mlartifacts"),
    )
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        store = RestStore("http://localhost", transport=client._transport)
        yield store
        store.close()
