"""One HTTP client for a tracking server: base URL, auth, TLS, timeouts, retries, error bodies.

Settings come from MLflow's environment variables (``tracklet.env``): ``MLFLOW_TRACKING_USERNAME``
/ ``PASSWORD`` (Basic auth) or ``MLFLOW_TRACKING_TOKEN`` (Bearer), ``MLFLOW_TRACKING_INSECURE_TLS``,
``MLFLOW_TRACKING_SERVER_CERT_PATH``, ``MLFLOW_TRACKING_CLIENT_CERT_PATH`` and
``MLFLOW_HTTP_REQUEST_{TIMEOUT,MAX_RETRIES,BACKOFF_FACTOR,BACKOFF_JITTER}``.

Only 429 and 503 responses and failed connections are retried (with exponential backoff,
honouring ``Retry-After``): they are the answers that say "later". Each retry is logged at once
with its reason (``retry.py``), and the final error names the variables that set the retries.
Other errors are raised at once as :class:`~tracklet.exceptions.MlflowException` carrying the
server's error code. Connecting may take at most ``TRACKLET_HTTP_CONNECT_TIMEOUT`` (10 s, or
``MLFLOW_HTTP_REQUEST_TIMEOUT`` if smaller), so an unroutable host is reported in seconds.
Plain ``http://`` servers are reached through :mod:`.transport` (sockets, no httpx: most of
the client's cost per request was httpx's); ``https://``, proxied URLs and an injected httpx
transport (tests run a REST store against the in-process ASGI app) go through httpx.
"""

from __future__ import annotations

import base64
import ssl
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from tracklet import env, jsonio
from tracklet.exceptions import MlflowException
from tracklet.store.rest import transport as transport_module
from tracklet.store.rest.retry import MAX_DELAY, RetryPolicy, RetryReporter
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


def _direct_headers() -> list[tuple[str, str]]:
    """:func:`_headers` with Basic credentials as the header httpx's BasicAuth would send."""
    headers = _headers()
    username = env.MLFLOW_TRACKING_USERNAME.get()
    password = env.MLFLOW_TRACKING_PASSWORD.get()
    if username and password:
        pair = f"{username}:{password}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    return list(headers.items())


class Response(Protocol):
    """What callers read of an answer (an httpx.Response or a transport.Reply)."""

    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def url(self) -> object: ...


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
        self.retry = RetryPolicy()
        timeout = self.retry.timeout
        connect_timeout = min(timeout, env.TRACKLET_HTTP_CONNECT_TIMEOUT.get())
        self._direct: transport_module.DirectTransport | None = None
        self._client: httpx.Client | None = None
        if transport is None and transport_module.suits(self.base_url):
            self._direct = transport_module.DirectTransport(
                self.base_url, _direct_headers(), timeout, connect_timeout
            )
        else:
            self._client = httpx.Client(
                base_url=self.base_url + "/",
                transport=transport,
                auth=_auth(),
                headers=_headers(),
                timeout=httpx.Timeout(timeout, connect=connect_timeout),
                verify=_verify(),
            )

    def close(self) -> None:
        if self._direct is not None:
            self._direct.close()
        if self._client is not None:
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

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        policy = self.retry
        reporter: RetryReporter | None = None
        attempt = 0
        while True:
            try:
                response: Response
                if self._direct is not None:
                    response = self._direct.request(method, path, params or (), content, headers)
                else:
                    assert self._client is not None
                    response = self._client.request(
                        method,
                        path,
                        params=tuple(params) if params else None,
                        content=content,
                        headers=headers,
                    )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                reason = _connect_failure(exc)
                reporter = reporter or RetryReporter(policy, self.base_url, f"{method} {path}")
                if attempt >= policy.max_retries:
                    raise MlflowException(
                        reporter.gave_up(reason, attempt + 1), "TEMPORARILY_UNAVAILABLE"
                    ) from exc
                delay = policy.delay(attempt)
            except httpx.TimeoutException as exc:  # connected, but no answer in time
                raise MlflowException(
                    f"The tracking server at {self.base_url} did not answer {method} {path} "
                    f"within {policy.timeout:g} s ({type(exc).__name__}). To wait longer, set "
                    "MLFLOW_HTTP_REQUEST_TIMEOUT to a larger value."
                ) from exc
            except httpx.TransportError as exc:
                raise MlflowException(
                    f"API request {method} {path} to the tracking server at {self.base_url} "
                    f"failed: {type(exc).__name__}: {exc}"
                ) from exc
            else:
                status = response.status_code
                if status not in RETRY_STATUSES:
                    return response
                reporter = reporter or RetryReporter(policy, self.base_url, f"{method} {path}")
                if attempt >= policy.max_retries:
                    if attempt:
                        reporter.status_gave_up(status, attempt + 1)
                    return response
                reason = f"answered HTTP {status}"
                retry_after = response.headers.get("retry-after", "")
                if retry_after.isdigit():
                    delay = min(float(retry_after), MAX_DELAY)
                else:
                    delay = policy.delay(attempt)
            reporter.retrying(reason, attempt, delay)
            time.sleep(delay)
            attempt += 1


def _connect_failure(exc: httpx.TransportError) -> str:
    """Why a connection failed, in words (the OS's reason: "Connection refused", ...)."""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection within the connect timeout ({exc or 'timed out'})"
    text = str(exc) or type(exc).__name__
    return f"cannot connect ({text})"
