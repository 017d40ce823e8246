"""The fuzzer beyond the wire table (issue 9 item 4): every other route the server answers,
found in its route table: the web UI's JSON routes, the auth API, the artifact proxy and
downloads (``get-artifact`` query parameters, artifact paths), and OTLP ingest (protobuf, JSON,
headers, encodings). The server runs with ``--app-name basic-auth`` and the requests are an
admin's, so the gate and every handler behind it see them. Whatever arrives: never a 5xx, and
a 4xx changes neither database nor the artifact directory. About 1,200 requests, a few seconds.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import os
import re
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.server.fuzz_support import call, count_failures, settled
from tests.server.test_fuzz import _JSON, _text

from tracklet.server.app import create_app
from tracklet.server.settings import ServerSettings
from tracklet.wire import endpoints as ep

EXAMPLES = int(240 * float(os.environ.get("TRACKLET_FUZZ_SCALE", "1")))
REQUESTS_PER_EXAMPLE = 5
ADMIN = ("admin", "fuzz admin password")
_AUTHORIZATION = b"Basic " + base64.b64encode(f"{ADMIN[0]}:{ADMIN[1]}".encode())
_TRAVERSALS = [
    "../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "/etc/passwd",
    "0/../../../x",
    "0/x/artifacts/../../../../etc/passwd",
    "C:\\windows\\win.ini",
    "a\x00b",
    "%2e%2e/%2e%2e/",
    "0/" + "a/" * 200,
]
_QUERY_KEYS = [
    "run_id",
    "run_uuid",
    "path",
    "experiment_id",
    "experiment_ids",
    "name",
    "version",
    "username",
    "key",
    "metric_key",
    "trace_id",
    "page_token",
    "max_results",
    "points",
    "start",
    "end",
    "resource_type",
    "resource_id",
]


def _otlp_protobuf(trace: bytes, name: bytes) -> bytes:
    """A small ExportTraceServiceRequest written by hand (one span), to be mangled."""

    def field(number: int, payload: bytes) -> bytes:
        return bytes([number << 3 | 2, len(payload)]) + payload

    span = field(1, trace) + field(2, b"\x01" * 8) + field(5, name)
    span += bytes([7 << 3 | 1]) + (10**15).to_bytes(8, "little")
    return field(1, field(2, field(2, span)))


_OTLP_BODIES = st.one_of(
    st.builds(_otlp_protobuf, st.binary(min_size=0, max_size=20), st.binary(max_size=30)),
    st.builds(
        lambda b, cut: b[:cut], st.just(_otlp_protobuf(b"\x02" * 16, b"op")), st.integers(0, 60)
    ),
    st.binary(max_size=200),
    st.builds(
        lambda spans: json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}).encode(),
        st.lists(
            st.dictionaries(
                st.sampled_from(
                    [
                        "traceId",
                        "spanId",
                        "name",
                        "links",
                        "status",
                        "startTimeUnixNano",
                        "attributes",
                        "events",
                    ]
                ),
                _JSON,
                max_size=6,
            ),
            max_size=3,
        ),
    ),
)


def _query(values: dict[str, Any]) -> bytes:
    pairs = [(k, v if isinstance(v, str) else _text(v)) for k, v in values.items()]
    return urllib.parse.urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode()


def _requests(routes: list[tuple[str, str]], plausible: dict[str, str]) -> st.SearchStrategy[Any]:
    values = st.one_of(
        st.sampled_from(sorted(set(plausible.values()))), _JSON, st.sampled_from(_TRAVERSALS)
    )
    query = st.dictionaries(st.sampled_from(_QUERY_KEYS), values, max_size=4).map(_query)

    def body_for(path: str) -> st.SearchStrategy[tuple[bytes, list[tuple[bytes, bytes]]]]:
        if path == ep.OTLP_TRACES_PATH:
            headers = st.lists(
                st.tuples(
                    st.sampled_from(
                        [
                            b"x-mlflow-experiment-id",
                            b"x-mlflow-run-id",
                            b"content-type",
                            b"content-encoding",
                        ]
                    ),
                    st.sampled_from(
                        [
                            b"0",
                            b"",
                            b"\xc2\xb2",
                            b"999999",
                            b"application/x-protobuf",
                            b"application/json",
                            b"gzip",
                            b"deflate",
                            b"br",
                            plausible["run_id"].encode(),
                        ]
                    ),
                ),
                max_size=4,
            )
            gzipped = st.booleans()
            return st.builds(
                lambda b, h, z: (gzip.compress(b) if z else b, h), _OTLP_BODIES, headers, gzipped
            )
        json_body = st.dictionaries(
            st.sampled_from(
                [*_QUERY_KEYS, "password", "permission", "is_admin", "series", "token"]
            ),
            values,
            max_size=5,
        ).map(lambda d: _text(d).encode())
        return st.tuples(st.one_of(json_body, st.binary(max_size=64)), st.just([]))

    def path_for(template: str) -> st.SearchStrategy[str]:
        names = re.findall(r"\{(\w+)[^}]*\}", template)
        if not names:
            return st.just(template)
        filler = st.one_of(
            st.sampled_from([plausible.get(n, "x") for n in names] + _TRAVERSALS),
            st.text(max_size=20),
        )

        def fill(value: str) -> str:
            safe = "/" if ":path" in template else ""
            quoted = urllib.parse.quote(value, safe=safe, errors="surrogatepass")
            return re.sub(r"\{\w+[^}]*\}", lambda _m: quoted, template)

        return filler.map(fill)

    def one(route: tuple[str, str]) -> st.SearchStrategy[Any]:
        method, template = route
        return st.tuples(st.just(method), path_for(template), query, body_for(template))

    return st.one_of([one(r) for r in routes])


def _headers(body: bytes, extra: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"host", b"localhost"),
        (b"authorization", _AUTHORIZATION),
        (b"content-length", str(len(body)).encode()),
    ]
    if not any(k == b"content-type" for k, _ in extra):
        headers.append((b"content-type", b"application/json"))
    return headers + extra


def _fingerprint(tmp_path: Path) -> Callable[[], Any]:
    """Database commits (SQLite's data_version moves on another connection's commit) and the
    artifact tree's files and sizes."""
    connections = [
        sa.create_engine(f"sqlite:///{tmp_path / name}").connect()
        for name in ("server.db", "auth.db")
    ]
    artifacts = tmp_path / "mlartifacts"

    def digest() -> Any:
        files = (
            sorted((str(p), p.stat().st_size) for p in artifacts.rglob("*"))
            if artifacts.exists()
            else []
        )
        return [c.exec_driver_sql("PRAGMA data_version").scalar() for c in connections], files

    return digest


@pytest.fixture
def target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, list[Any], dict[str, str]]:
    monkeypatch.setenv("TRACKLET_ADMIN_USERNAME", ADMIN[0])
    monkeypatch.setenv("TRACKLET_ADMIN_PASSWORD", ADMIN[1])
    settings_ = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}",
        artifacts_destination=str(tmp_path / "mlartifacts"),
        app_name="basic-auth",
        auth_database_uri=f"sqlite:///{tmp_path / 'auth.db'}",
        max_request_bytes=1024 * 1024,
    )
    app = create_app(settings_)
    wire = {e.path for e in ep.ENDPOINTS}
    routes = []
    for route in app.routes:
        path = getattr(route, "path", "")
        bare = re.sub(r"^/(?:api|ajax-api)/\d\.0", "", path)
        if path == "/health" or (bare in wire and "/tracklet/" not in path):
            continue
        routes.extend((m, path) for m in sorted(route.methods or {"GET"}) if m != "HEAD")
    return app, routes, {}


def _is_traversal_probe(path: str, query: bytes) -> bool:
    """An artifact route sent one of the traversal strings, in its path or its query."""
    if "artifact" not in path:
        return False
    sent = urllib.parse.unquote(path) + urllib.parse.unquote_plus(query.decode())
    return any(t in sent for t in _TRAVERSALS[:-1])  # the last one is only long


def test_no_5xx_and_nothing_written_on_a_4xx_beyond_the_wire_table(
    target: tuple[Any, list[Any], dict[str, str]], tmp_path: Path, record_property: Any
) -> None:
    app, routes, plausible = target
    loop = asyncio.new_event_loop()
    lifespan = app.router.lifespan_context(app)
    loop.run_until_complete(lifespan.__aenter__())
    state = app.state.tracklet
    store = state.store
    run = store.create_run("0", "fuzz", 0, [], None)
    plausible.update(
        run_id=run.info.run_id,
        experiment_id="0",
        artifact_path=f"0/{run.info.run_id}/artifacts/a.txt",
        username=ADMIN[0],
        name="model",
        model_id="m-missing",
    )
    assert any("/tracklet/" in p for _m, p in routes)
    assert any("/users/" in p for _m, p in routes)
    fingerprint = settled(store, _fingerprint(tmp_path))

    failures: list[Any] = []
    seen = {"count": 0, "traversals": 0}
    statuses: dict[int, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.lists(
            _requests(routes, plausible),
            min_size=REQUESTS_PER_EXAMPLE,
            max_size=REQUESTS_PER_EXAMPLE,
        )
    )
    def probe(batch: list[Any]) -> None:
        for method, path, query, (body, headers) in batch:
            before = fingerprint()
            status = loop.run_until_complete(
                call(app, method, path, query, body, _headers(body, headers))
            )
            seen["count"] += 1
            seen["traversals"] += _is_traversal_probe(path, query)
            statuses[status] = statuses.get(status, 0) + 1
            if not 200 <= status < 500 and status != 501:
                failures.append((status, method, path, query[:200], body[:200], headers))
            elif status >= 400 and fingerprint() != before:
                failures.append(("written on", status, method, path, query[:200], body[:200]))

    try:
        probe()
    finally:
        loop.run_until_complete(lifespan.__aexit__(None, None, None))
        loop.close()
    record_property("fuzzed_requests_sqlite", seen["count"])
    record_property("fuzzed_5xx", count_failures(failures))
    record_property("traversal_probes", seen["traversals"])
    shown = sorted({(str(f[0]), f[1], f[2] if f[0] != "written on" else f[3]) for f in failures})
    assert failures == [], shown
    assert seen["count"] == EXAMPLES * REQUESTS_PER_EXAMPLE
    # The requests reach the handlers: most are answered by them, not refused at the gate.
    assert statuses.get(200, 0) > 0.1 * seen["count"], statuses
    assert statuses.get(401, 0) + statuses.get(403, 0) < 0.05 * seen["count"], statuses
