"""The one check in front of every route: who is asking (HTTP Basic or a Bearer access token),
and may they (the route's rule, see :mod:`.rules`, against their grant on the resource or the
default permission). Admins pass every rule.

A JSON body read here to find the resource is handed on in the ASGI scope
(``tracklet.json``), so the RPC layer does not parse it twice: log-batch keeps its speed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracklet import jsonio
from tracklet.exceptions import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST, MlflowException
from tracklet.server.auth.permissions import EXPERIMENT, MANAGE, REGISTERED_MODEL, Permission
from tracklet.server.auth.rules import ADMIN, ANY, Rule, rule_for, strip_prefix
from tracklet.server.auth.store import AuthStore, User
from tracklet.server.auth.traces import TraceExperiments, trace_resources
from tracklet.server.rpc import PayloadTooLarge, receive_body
from tracklet.wire.decode import parse_body
from tracklet.wire.errors import error_body, error_status

UNAUTHENTICATED_MESSAGE = (
    "You are not authenticated. Please see "
    "https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow "
    "on how to authenticate."
)
# Liveness probes only: reveals nothing and changes nothing.
EXEMPT_PATHS = frozenset({"/health"})
_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Resources told by the path or headers: the body is not read (OTLP's is protobuf).
_BODILESS = frozenset({"", "otlp_experiment", "trace_path"})
# Searches whose results are filtered to what the user may read: (list key, id key, type).
_FILTERED = {
    "/mlflow/experiments/search": ("experiments", "experiment_id", EXPERIMENT),
    "/mlflow/registered-models/search": ("registered_models", "name", REGISTERED_MODEL),
    "/mlflow/model-versions/search": ("model_versions", "name", REGISTERED_MODEL),
}
# Creations that make the creator the resource's manager: (request path, type, response getter).
_CREATED: dict[str, tuple[str, Callable[[dict[str, Any], dict[str, Any]], Any]]] = {
    "/mlflow/experiments/create": (EXPERIMENT, lambda req, resp: resp.get("experiment_id")),
    "/mlflow/registered-models/create": (REGISTERED_MODEL, lambda req, resp: req.get("name")),
}


async def _text(send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


def forbidden(send: Send) -> Any:
    return _text(send, 403, "Permission denied", [])


class AuthGate:
    """ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp, auth: AuthStore, default: Permission) -> None:
        self.app = app
        self.auth = auth
        self.default = default
        self._run_experiments: dict[str, str] = {}  # a run never changes experiment
        self._traces = TraceExperiments(self._experiment_of_run)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        authorization = fetch_site = ""
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"sec-fetch-site":
                fetch_site = value.decode("latin-1")
        user = await self._authenticate(authorization)
        if user is None:
            await _text(
                send, 401, UNAUTHENTICATED_MESSAGE, [(b"www-authenticate", b'Basic realm="mlflow"')]
            )
            return
        if method in _STATE_CHANGING and fetch_site in ("cross-site", "same-site"):
            # CSRF: a browser sends Basic credentials with any request; another site's page
            # must not make it change anything.
            await forbidden(send)
            return
        scope["tracklet.user"] = user
        bare = strip_prefix(scope["path"])
        rule = rule_for(scope["path"], method)
        raw: dict[str, Any] = {}
        try:
            needs_body = rule.resource not in _BODILESS or bare in _CREATED
            if needs_body and method not in ("GET", "HEAD"):
                limit = scope["app"].state.tracklet.settings.max_request_bytes
                body = await receive_body(receive, limit)
                raw = parse_body(body)
                scope["tracklet.json"] = raw
                receive = _replay(body)
            if not user.is_admin and not await self._allowed(scope, rule, raw):
                await forbidden(send)
                return
        except MlflowException as error:
            await _json_error(send, error)
            return
        except PayloadTooLarge as error:
            await _json_error(send, MlflowException(str(error), INVALID_PARAMETER_VALUE), 413)
            return
        if bare in _CREATED:
            await self._create_and_grant(scope, receive, send, user, raw, _CREATED[bare])
        elif bare in _FILTERED and not user.is_admin:
            await self._filtered(scope, receive, send, user, _FILTERED[bare])
        else:
            await self.app(scope, receive, send)

    # ------------------------------------------------------------------ who

    async def _authenticate(self, header: str) -> User | None:
        scheme, _, credentials = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            username, colon, password = decoded.partition(":")
            if not colon:
                return None
            return await self._cached_or_threaded(self.auth.authenticate, username, password)
        if scheme == "bearer" and credentials:
            return await self._cached_or_threaded(self.auth.authenticate_token, credentials)
        return None

    async def _cached_or_threaded(
        self, check: Callable[..., User | None], *args: str
    ) -> User | None:
        # A cached check costs a hash; an uncached one runs argon2 (tens of milliseconds),
        # which must never block the event loop.
        user = self.auth.cached(check, *args)
        return user if user is not None else await run_in_threadpool(check, *args)

    # ------------------------------------------------------------------ may they

    async def _allowed(self, scope: Scope, rule: Rule, raw: dict[str, Any]) -> bool:
        if rule.need == ANY:
            return True
        if rule.need == ADMIN:
            return False
        user: User = scope["tracklet.user"]
        if scope["app"].state.tracklet.inline_ok:  # local SQLite: lookups take microseconds
            resources = self._resources(scope, rule, raw)
        else:
            resources = await run_in_threadpool(self._resources, scope, rule, raw)
        if not resources:
            return False  # nothing to check against (no id given, say): refused, not waved on
        for kind, resource_id, *need in resources:
            permission = self.auth.permission(user, kind, resource_id, self.default)
            if not permission.allows(need[0] if need else rule.need):
                return False
        return True

    def _resources(
        self, scope: Scope, rule: Rule, raw: dict[str, Any]
    ) -> list[tuple[str, ...]] | None:
        """The resources the request touches, each (type, id) or (type, id, need) where it
        needs other than the rule's; None if they cannot be told (refused)."""
        query = _query(scope)

        def field(name: str) -> Any:
            value = raw.get(name) if raw else None
            return value if value is not None else query.get(name, [None])[0]

        store = scope["app"].state.tracklet.store
        kind = rule.resource
        if kind == "experiment_id":
            return [(EXPERIMENT, str(field("experiment_id")))]
        if kind == "experiment_ids":
            ids = raw.get("experiment_ids") if raw else None
            ids = ids if isinstance(ids, list) else query.get("experiment_ids", [])
            return [(EXPERIMENT, str(i)) for i in ids]
        if kind == "experiment_name":
            try:
                experiment = store.get_experiment_by_name(str(field("experiment_name")))
            except MlflowException:
                return [(EXPERIMENT, "")]  # unknown: the default decides, the handler 404s
            return [
                (EXPERIMENT, "") if experiment is None else (EXPERIMENT, experiment.experiment_id)
            ]
        if kind == "run_id":
            run_id = field("run_id") or field("run_uuid")
            return [(EXPERIMENT, self._experiment_of_run(store, str(run_id)))]
        if kind == "run_ids":
            run_ids = raw.get("run_ids") if raw else None
            run_ids = run_ids if isinstance(run_ids, list) else query.get("run_ids", [])
            return [(EXPERIMENT, self._experiment_of_run(store, str(r))) for r in run_ids]
        if kind == "series":
            wanted = raw.get("series") if raw else None
            if not isinstance(wanted, list) or not wanted:
                run_id = raw.get("run_id") if raw else None  # or one run's keys (series.py)
                if not isinstance(run_id, str) or not run_id:
                    return None
                return [(EXPERIMENT, self._experiment_of_run(store, run_id))]
            run_ids = {str(item.get("run_id")) for item in wanted if isinstance(item, dict)}
            return [(EXPERIMENT, self._experiment_of_run(store, r)) for r in sorted(run_ids)]
        if kind == "run_or_experiment":
            run_id = field("run_id")
            if run_id:
                return [(EXPERIMENT, self._experiment_of_run(store, str(run_id)))]
            # Live events of several experiments repeat the parameter: each one is checked.
            experiment_ids = query.get("experiment_id", []) or [field("experiment_id")]
            found: list[tuple[str, ...]] = [(EXPERIMENT, str(e)) for e in experiment_ids if e]
            return found or None
        if kind == "name":
            return [(REGISTERED_MODEL, str(field("name")))]
        if kind.startswith(("trace", "otlp", "link")):
            return trace_resources(kind, scope, raw, query, self._traces)
        if kind == "model_id":
            model_id = strip_prefix(scope["path"]).split("/")[3]
            try:
                return [(EXPERIMENT, store.get_logged_model(model_id).experiment_id)]
            except MlflowException:
                return [(EXPERIMENT, "")]
        if kind == "artifact":
            bare = strip_prefix(scope["path"])
            path = bare.split("/", 3)[3] if bare.count("/") >= 3 else str(field("path") or "")
            experiment_id = path.lstrip("/").split("/", 1)[0]
            return [(EXPERIMENT, experiment_id)] if experiment_id.isdigit() else None
        return None

    def _experiment_of_run(self, store: Any, run_id: str) -> str:
        experiment_id = self._run_experiments.get(run_id)
        if experiment_id is None:
            try:
                experiment_id = str(store.get_run(run_id).info.experiment_id)
            except MlflowException as error:
                if error.error_code != RESOURCE_DOES_NOT_EXIST:
                    raise
                return ""  # the handler answers 404 if the default lets it through
            if len(self._run_experiments) > 100_000:
                self._run_experiments.clear()
            self._run_experiments[run_id] = experiment_id
        return experiment_id

    # ------------------------------------------------------------------ responses

    async def _create_and_grant(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        user: User,
        raw: dict[str, Any],
        created: tuple[str, Callable[[dict[str, Any], dict[str, Any]], Any]],
    ) -> None:
        status, headers, body = await _buffered(self.app, scope, receive)
        if status == 200:
            kind, resource_of = created
            resource_id = resource_of(raw, jsonio.loads(body))
            if resource_id:
                await run_in_threadpool(self.auth.grant, user, kind, str(resource_id), MANAGE.name)
        await _send(send, status, headers, body)

    async def _filtered(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        user: User,
        spec: tuple[str, str, str],
    ) -> None:
        status, headers, body = await _buffered(self.app, scope, receive)
        if status == 200:
            list_key, id_key, kind = spec
            document = jsonio.loads(body)
            items = document.get(list_key)
            if isinstance(items, list):
                document[list_key] = [
                    item
                    for item in items
                    if self.auth.permission(
                        user, kind, str(item.get(id_key)), self.default
                    ).can_read
                ]
                body = jsonio.dumps(document)
        await _send(send, status, headers, body)


def _query(scope: Scope) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    query = scope.get("query_string", b"").decode("latin-1")
    return parse_qs(query, keep_blank_values=True) if query else {}


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _buffered(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, list[Any], bytes]:
    start: dict[str, Any] = {}
    parts: list[bytes] = []

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, capture)
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    return int(start.get("status", 500)), headers, b"".join(parts)


async def _send(send: Send, status: int, headers: list[Any], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _json_error(send: Send, error: MlflowException, status: int = 0) -> None:
    body = error_body(error)
    headers = [(b"content-type", b"application/json")]
    await _send(send, status or error_status(error), headers, body)
