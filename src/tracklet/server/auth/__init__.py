"""Authentication and authorization for ``tracklet server --app-name basic-auth`` (MLflow's
flag): users with argon2-hashed passwords and access tokens, HTTP Basic and Bearer, and
READ / USE / EDIT / MANAGE / NO_PERMISSIONS grants per experiment and per registered model,
with a default permission and admin users. MLflow's basic-auth REST API is served, so
``mlflow.server.auth.client.AuthServiceClient`` works unchanged.

One ASGI layer (:class:`~tracklet.server.auth.gate.AuthGate`) stands in front of the router, so
every route, present or added later, is behind the same check; paths it has no rule for are
open to admins only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.middleware import Middleware
    from starlette.routing import BaseRoute

    from tracklet.server.auth.permissions import Permission
    from tracklet.server.auth.store import AuthStore
    from tracklet.server.settings import ServerSettings

APP_NAMES = ("basic-auth",)


def enable(
    settings: ServerSettings,
) -> tuple[tuple[AuthStore, Permission], Middleware, list[BaseRoute]]:
    """What ``create_app`` adds for ``settings.app_name``: the auth store and default
    permission, the gate in front of the router, and the auth API's routes.

    Raises:
        AuthNotConfigured: an unknown app name, or no admin user (see :mod:`.setup`).
    """
    from starlette.middleware import Middleware

    from tracklet.server.auth.api import routes
    from tracklet.server.auth.gate import AuthGate
    from tracklet.server.auth.setup import AuthNotConfigured, open_auth

    if settings.app_name not in APP_NAMES:
        raise AuthNotConfigured(
            f"Unknown --app-name {settings.app_name!r}; tracklet provides {list(APP_NAMES)}"
        )
    auth, default = open_auth(settings.auth_database_uri, settings.auth_default_permission)
    gate: Any = AuthGate
    return (auth, default), Middleware(gate, auth, default), routes()
