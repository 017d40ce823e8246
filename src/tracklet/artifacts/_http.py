"""One httpx client per artifact repository: auth, TLS and errors as MLflow's client does."""

from __future__ import annotations

import base64
from typing import Any

from tracklet import env
from tracklet.exceptions import MlflowException, RestException, error_code_for_status

USER_AGENT = "tracklet-artifacts"


def auth_headers() -> dict[str, str]:
    """Basic auth from MLFLOW_TRACKING_USERNAME/PASSWORD, else a bearer MLFLOW_TRACKING_TOKEN."""
    username = env.MLFLOW_TRACKING_USERNAME.get()
    password = env.MLFLOW_TRACKING_PASSWORD.get()
    if username and password:
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}
    if bearer := env.MLFLOW_TRACKING_TOKEN.get():
        return {"Authorization": f"Bearer {bearer}"}
    return {}


def new_client(transport: Any = None) -> Any:
    """An ``httpx.Client``; ``transport`` is injectable so tests can reach an in-process app."""
    import httpx  # imported on first remote-artifact use, not with tracklet

    verify: Any = True
    if env.MLFLOW_TRACKING_INSECURE_TLS.get():
        verify = False
    elif cert_path := env.MLFLOW_TRACKING_SERVER_CERT_PATH.get():
        verify = cert_path
    kwargs: dict[str, Any] = {
        "headers": {"User-Agent": USER_AGENT, **auth_headers()},
        "timeout": httpx.Timeout(env.MLFLOW_HTTP_REQUEST_TIMEOUT.get()),
        "follow_redirects": True,
    }
    if transport is not None:
        kwargs["transport"] = transport
    else:
        retries = min(env.MLFLOW_HTTP_REQUEST_MAX_RETRIES.get(), 5)
        cert = env.MLFLOW_TRACKING_CLIENT_CERT_PATH.get()
        # Retries here cover failed connections only; a request that reached the server is
        # never sent twice by the transport.
        kwargs["transport"] = httpx.HTTPTransport(verify=verify, cert=cert, retries=retries)
    return httpx.Client(**kwargs)


def raise_for_status(response: Any, what: str) -> None:
    """MLflow's JSON error body as a RestException; any other failure by its status."""
    if response.status_code < 400:
        return
    if hasattr(response, "read"):
        response.read()
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error_code" in body:
        raise RestException(body)
    text = response.text[:500]
    raise MlflowException(
        f"{what} failed with HTTP {response.status_code}: {text}",
        error_code_for_status(response.status_code),
    )
