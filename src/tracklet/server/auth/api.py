"""MLflow's basic-auth REST API (mlflow/server/auth/routes.py, 3.17.2), so that
``mlflow.server.auth.client.AuthServiceClient`` works unchanged: users, the per-user grant /
revoke / get of a resource permission (``/api/3.0/mlflow/users/permissions/...``), and the
older per-experiment and per-registered-model routes (``/api/2.0/mlflow/experiments/
permissions/...``). Plus tracklet's access tokens (``/api/2.0/tracklet/users/tokens/...``),
used as ``Authorization: Bearer`` (``MLFLOW_TRACKING_TOKEN``).

Who may call what follows MLflow: admins anything; a user may read and change their own
account (a new password needs the current one), and grant or revoke on a resource they MANAGE.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tracklet.exceptions import BAD_REQUEST, INVALID_PARAMETER_VALUE, MlflowException
from tracklet.server.auth.permissions import EXPERIMENT, REGISTERED_MODEL, Permission
from tracklet.server.auth.store import AuthStore, User
from tracklet.server.rpc import json_response
from tracklet.wire.decode import parse_body

Params = dict[str, Any]
Handler = Callable[[AuthStore, User, Params, Permission], Params]


def _auth(request: Request) -> tuple[AuthStore, Permission]:
    state = request.app.state
    return state.tracklet_auth, state.tracklet_auth_default


def _require(condition: bool) -> None:
    if not condition:
        raise PermissionError


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise MlflowException(f"Missing value for parameter '{name}'.", INVALID_PARAMETER_VALUE)
    return value


def _may_manage(
    auth: AuthStore, user: User, kind: str, resource_id: str, default: Permission
) -> bool:
    return user.is_admin or auth.permission(user, kind, resource_id, default).can_manage


# ---------------------------------------------------------------------- users


def create_user(auth: AuthStore, user: User, p: Params, default: Permission) -> Params:
    _require(user.is_admin)
    return {"user": auth.create_user(p.get("username"), p.get("password")).to_json()}


def get_user(auth: AuthStore, user: User, p: Params, default: Permission) -> Params:
    _require(user.is_admin or p.get("username") == user.username)
    return {"user": auth.get_user(p.get("username")).to_json()}


def current_user(auth: AuthStore, user: User, p: Params, default: Permission) -> Params:
    current = auth.get_user(user.username)
    return {"user": current.to_json(), "is_basic_auth": True}


def list_users(auth: AuthStore, user: User, p: Params, default: Permission) -> Params:
    _require(user.is_admin)
    return {"users": [{**u.to_json(), "roles": []} for u in auth.list_users()]}


def update_password(auth: AuthStore, user: User, p: Params, default: Permission) -> Params:
    username = p.get("username")
    _require(user.is_admin or username == user.username)
    password = _text(p.get("password"), "password")
    if username == user.username:
        current = p.get("current_password")
        if not current:
            raise MlflowException(
                "Current password is required when changing your own password.",
                INVALID_PARAMETER_VALUE,
            )
        if auth.authenticate(user.username, str(current)) is None:
            raise MlflowException("Current password does not match.", INVALID_PARAMETER_VALUE)
        if password == current:
            raise MlflowException(
                "New password must differ from the current password.", INVALID_PARAMETER_VALUE
            )
    auth.update_user(username, password=password)
    return {}


def update_admin(auth: AuthStore, user: User, p: Params, default: Permission) -> Params:
    _require(user.is_admin)
    is_admin = p.get("is_admin")
    if isinstance(is_admin, str) and is_admin.lower() in ("true", "false"):
        is_admin = is_admin.lower() == "true"
    if not isinstance(is_admin, bool):
        raise MlflowException("is_admin must be true or false.", INVALID_PARAMETER_VALUE)
    auth.update_user(p.get("username"), is_admin=is_admin)
    return {}


def delete_user(auth: AuthStore, user: User, p: Params, default: Permission) -> Params:
    _require(user.is_admin)
    if p.get("username") == user.username:
        raise MlflowException(
            "Users cannot delete their own account. Ask another admin to delete this user instead.",
            BAD_REQUEST,
        )
    auth.delete_user(p.get("username"))
    return {}


# ---------------------------------------------------------------------- grants


def grant(auth: AuthStore, user: User, p: Params, default: Permission) -> Params:
    kind, resource_id = str(p.get("resource_type")), str(p.get("resource_id"))
    _require(_may_manage(auth, user, kind, resource_id, default))
    auth.grant(auth.get_user(p.get("username")), kind, resource_id, p.get("permission"))
    return {}


def revoke(auth: AuthStore, user: User, p: Params, default: Permission) -> Params:
    kind, resource_id = str(p.get("resource_type")), str(p.get("resource_id"))
    _require(_may_manage(auth, user, kind, resource_id, default))
    auth.revoke(auth.get_user(p.get("username")), kind, resource_id)
    return {}


def get_permission(auth: AuthStore, user: User, p: Params, default: Permission) -> Params:
    kind, resource_id = str(p.get("resource_type")), str(p.get("resource_id"))
    username = p.get("username")
    _require(username == user.username or _may_manage(auth, user, kind, resource_id, default))
    target = auth.get_user(username)
    permission = auth.permission(target, kind, resource_id, default)
    return {"allowed": permission.can_use, "permission": permission.name}


def _legacy(kind: str, id_field: str, key: str) -> dict[str, Handler]:
    """MLflow 2.x's per-resource routes over the same grants."""

    def create(auth: AuthStore, user: User, p: Params, default: Permission) -> Params:
        resource_id = str(p.get(id_field))
        _require(_may_manage(auth, user, kind, resource_id, default))
        target = auth.get_user(p.get("username"))
        auth.grant(target, kind, resource_id, p.get("permission"))
        return {key: _shown(kind, id_field, resource_id, target, str(p.get("permission")))}

    def get(auth: AuthStore, user: User, p: Params, default: Permission) -> Params:
        resource_id = str(p.get(id_field))
        target = auth.get_user(p.get("username"))
        _require(target.id == user.id or _may_manage(auth, user, kind, resource_id, default))
        name = auth.granted(target.id, kind, resource_id)
        if name is None:
            raise MlflowException(
                f"{key} with {id_field}={resource_id} and username={target.username} not found",
                "RESOURCE_DOES_NOT_EXIST",
            )
        return {key: _shown(kind, id_field, resource_id, target, name)}

    def delete(auth: AuthStore, user: User, p: Params, default: Permission) -> Params:
        resource_id = str(p.get(id_field))
        _require(_may_manage(auth, user, kind, resource_id, default))
        auth.revoke(auth.get_user(p.get("username")), kind, resource_id)
        return {}

    return {"create": create, "get": get, "update": create, "delete": delete}


def _shown(kind: str, id_field: str, resource_id: str, user: User, permission: str) -> Params:
    return {id_field: resource_id, "user_id": user.id, "permission": permission}


# ---------------------------------------------------------------------- tokens


def create_token(auth: AuthStore, user: User, p: Params, default: Permission) -> Params:
    return {"token": auth.create_token(user)}


def revoke_tokens(auth: AuthStore, user: User, p: Params, default: Permission) -> Params:
    return {"revoked": auth.revoke_tokens(user)}


# ---------------------------------------------------------------------- routes


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        auth, default = _auth(request)
        user: User = request.scope["tracklet.user"]
        if request.method in ("GET", "HEAD"):
            params: Params = dict(request.query_params)
        else:
            cached = request.scope.get("tracklet.json")
            params = cached if cached is not None else parse_body(await request.body())
        try:
            result = await run_in_threadpool(handler, auth, user, params, default)
        except PermissionError:
            return Response("Permission denied", status_code=403, media_type="text/plain")
        return json_response(result)

    return endpoint


def _both(path: str, version: int, handler: Handler, method: str) -> list[BaseRoute]:
    return [
        Route(f"/{prefix}/{version}.0{path}", _endpoint(handler), methods=[method])
        for prefix in ("api", "ajax-api")
    ]


_LEGACY_VERBS = (("create", "POST"), ("get", "GET"), ("update", "PATCH"), ("delete", "DELETE"))
# (path, handler, method) per API version; /api and /ajax-api both serve each.
_USER_READS = {"get": get_user, "current": current_user, "list": list_users}
_USER_WRITES = {
    "create": (create_user, "POST"),
    "update-password": (update_password, "PATCH"),
    "update-admin": (update_admin, "PATCH"),
    "delete": (delete_user, "DELETE"),
}
_GRANTS = {"grant": (grant, "POST"), "revoke": (revoke, "POST"), "get": (get_permission, "GET")}
_TOKENS = {"create": create_token, "revoke": revoke_tokens}


def _table() -> list[tuple[str, int, Handler, str]]:
    table: list[tuple[str, int, Handler, str]] = []
    table += [(f"/mlflow/users/{name}", 2, h, "GET") for name, h in _USER_READS.items()]
    table += [(f"/mlflow/users/{name}", 2, h, m) for name, (h, m) in _USER_WRITES.items()]
    table += [(f"/mlflow/users/permissions/{name}", 3, h, m) for name, (h, m) in _GRANTS.items()]
    table += [(f"/tracklet/users/tokens/{name}", 2, h, "POST") for name, h in _TOKENS.items()]
    for kind, id_field, key, base in (
        (EXPERIMENT, "experiment_id", "experiment_permission", "/mlflow/experiments"),
        (REGISTERED_MODEL, "name", "registered_model_permission", "/mlflow/registered-models"),
    ):
        legacy = _legacy(kind, id_field, key)
        table += [(f"{base}/permissions/{v}", 2, legacy[v], m) for v, m in _LEGACY_VERBS]
    return table


def routes() -> list[BaseRoute]:
    """The auth API's routes (served only with ``--app-name basic-auth``)."""
    return [route for row in _table() for route in _both(*row)]


# Every auth API path is open to any signed-in user; each handler checks who may.
PATHS = frozenset(path for path, *_ in _table())
