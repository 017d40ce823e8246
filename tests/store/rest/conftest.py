"""A RestStore wired to the in-process server app through an httpx transport (no socket)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tracklet.server.app import create_app
from tracklet.server.settings import ServerSettings
from tracklet.store.rest.store import RestStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette prefers httpx2; httpx is what we have
    from starlette.testclient import TestClient


class _TestClientTransport(httpx.BaseTransport):
    """An httpx transport that hands each request to Starlette's TestClient.

    The TestClient speaks httpx2 when that is installed (a dependency of huggingface_hub, say)
    and httpx otherwise; the RestStore speaks httpx. Re-issuing the request through the
    client works with either, where sharing the client's own transport works with one.
    """

    def __init__(self, client: TestClient) -> None:
        self._client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self._client.request(
            request.method,
            str(request.url),
            content=request.read(),
            headers=list(request.headers.multi_items()),
        )
        headers = [  # the body below is already decoded
            (k, v)
            for k, v in answer.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            answer.status_code,
            headers=headers,
            content=answer.content,
            request=request,
        )


@pytest.fixture
def rest_store(tmp_path: Path) -> Iterator[RestStore]:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}",
        artifacts_destination=str(tmp_path / "mlartifacts"),
    )
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        store = RestStore("http://localhost", transport=_TestClientTransport(client))
        yield store
        store.close()
