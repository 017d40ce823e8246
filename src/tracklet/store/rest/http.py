"""One HTTP client for a tracking server: base URL, auth, TLS, timeouts, retries, error bodies.

Settings come from MLflow's environment variables (``tracklet.env``): ``MLFLOW_TRACKING_USERNAME``
/ ``PASSWORD`` (Basic auth) or ``MLFLOW_TRACKING_TOKEN`` (Bearer), ``MLFLOW_TRACKING_INSECURE_TLS``,
``MLFLOW_TRACKING_SERVER_CERT_PATH``, ``MLFLOW_TRACKING_CLIENT_CERT_PATH`` and
``MLFLOW_HTTP_REQUEST_{TIMEOUT,MAX_RETRIES,BACKOFF_FACTOR,BACKOFF_JITTER}``.

Only 429 and 503 responses and failed connections are retried (with exponential backoff,
honouring ``Retry-After``): they are the answers that say "later". Other errors are raised at
once as :class:`~tracklet.exceptions.MlflowException` carrying the server's error code.
The transport is injectable, so tests run a REST store against the in-process ASGI app.
"""

from __future__ import annotations

import random
import ssl
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

import httpx

from tracklet import env, jsonio
from tracklet.exceptions import MlflowException
from tracklet.store.rest import transport as transport_module
from tracklet.wire.endpoints import Endpoint
from tracklet.wire.errors import exception_from_response

RETRY_STATUSES = frozenset({429, 503})
USER_AGENT = "tracklet-python-client"
_JSON_HEADERS = {"Content-Type": "application/json"}


def _auth() -> httpx.Auth | None:
    username = env.MLFLOW_TRACKING_USERNAME.get()
    password = env.MLFLOW_TRACKING_PASSWORD.get()
    if username and password:
        return httpx.BasicAuth(username, password)
    return None


def _headers() -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT}
    token = env.MLFLOW_TRACKING_TOKEN.get()
    if token and not (env.MLFLOW_TRACKING_USERNAME.get() and env.MLFLOW_TRACKING_PASSWORD.get()):
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _verify() -> bool | ssl.SSLContext:
    """TLS verification: off, the system's, or a context with the configured CA and client cert."""
    if env.MLFLOW_TRACKING_INSECURE_TLS.get():
        return False
    ca_path = env.MLFLOW_TRACKING_SERVER_CERT_PATH.get()
    client_cert = env.MLFLOW_TRACKING_CLIENT_CERT_PATH.get()
    if not ca_path and not client_cert:
        return True
    context = ssl.create_default_context(cafile=ca_path)
    if client_cert:
        context.load_cert_chain(client_cert)
    return context


def query_params(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A GET request's fields as query pairs: lists repeated, booleans as true/false."""
    pairs: list[tuple[str, str]] = []
    for name, value in fields.items():
        if value is None:
            continue
        for item in value if isinstance(value, list | tuple) else (value,):
            if isinstance(item, bool):
                pairs.append((name, "true" if item else "false"))
            else:
                pairs.append((name, str(item)))
    return pairs


class HttpClient:
    """Calls endpoints of :mod:`tracklet.wire.endpoints` on one tracking server.

    Args:
        base_url: The tracking URI, e.g. ``http://127.0.0.1:5000`` (a path prefix is kept).
        transport: An httpx transport to use instead of the network (tests).
    """

    def __init__(self, base_url: str, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max(0, env.MLFLOW_HTTP_REQUEST_MAX_RETRIES.get())
        self.backoff_factor = env.MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR.get()
        self.backoff_jitter = env.MLFLOW_HTTP_REQUEST_BACKOFF_JITTER.get()
        if transport is None and transport_module.suits(self.base_url):
            transport = transport_module.StdlibTransport()
        self._client = httpx.Client(
            base_url=self.base_url + "/",
            transport=transport,
            auth=_auth(),
            headers=_headers(),
            timeout=env.MLFLOW_HTTP_REQUEST_TIMEOUT.get(),
            verify=_verify(),
        )

    def close(self) -> None:
        self._client.close()

    def call(
        self,
        endpoint: Endpoint,
        fields: Mapping[str, Any] | None = None,
        path_params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send ``fields`` to ``endpoint`` and return the decoded JSON response.

        Args:
            endpoint: The endpoint table entry.
            fields: Request fields (query string for GET, JSON body otherwise).
            path_params: Values of the path's ``{name}`` parameters (URL-quoted here).

        Raises:
            MlflowException: the server's error (its ``error_code``), or a transport failure.
        """
        path = endpoint.api_path.lstrip("/")
        if path_params:
            path = path.format(
                **{k: urllib.parse.quote(v, safe="") for k, v in path_params.items()}
            )
        if endpoint.method == "GET":
            response = self._send("GET", path, params=query_params(fields or {}))
        else:
            response = self._send(
                endpoint.method, path, content=jsonio.dumps(fields or {}), headers=_JSON_HEADERS
            )
        body = response.content
        if response.status_code != 200:
            raise exception_from_response(response.status_code, body, str(response.url))
        if not body or body in (b'""', b"200 OK"):
            return {}
        try:
            parsed = jsonio.loads(body)
        except ValueError:
            raise MlflowException(
                f"The tracking server answered {endpoint.api_path} with a body that is not JSON: "
                f"{body[:200]!r}"
            ) from None
        if not isinstance(parsed, dict):
            raise MlflowException(f"Unexpected response from {endpoint.api_path}: {body[:200]!r}")
        return parsed

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self._client.request(method, path, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt >= self.max_retries:
                    raise MlflowException(
                        f"Could not connect to the tracking server at {self.base_url}: {exc}",
                        "TEMPORARILY_UNAVAILABLE",
                    ) from exc
            else:
                if response.status_code not in RETRY_STATUSES or attempt >= self.max_retries:
                    return response
                retry_after = response.headers.get("retry-after", "")
                if retry_after.isdigit():
                    time.sleep(min(float(retry_after), 120.0))
                    attempt += 1
                    continue
            time.sleep(self._backoff(attempt))
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        delay = self.backoff_factor * (2**attempt) if attempt else 0.0
        return min(delay, 120.0) + random.uniform(0, self.backoff_jitter)
