"""Turning auth on: the auth database, the first admin, and the refusal to start without one."""

from __future__ import annotations

import os

from tracklet.server.auth.permissions import Permission, get_permission
from tracklet.server.auth.store import AuthStore

ADMIN_USERNAME_VAR = "TRACKLET_ADMIN_USERNAME"
ADMIN_PASSWORD_VAR = "TRACKLET_ADMIN_PASSWORD"


class AuthNotConfigured(RuntimeError):
    """Auth was asked for but cannot be served safely (no admin user, say)."""


def open_auth(database_uri: str, default_permission: str) -> tuple[AuthStore, Permission]:
    """The auth store, with its first admin created from the environment if it has none.

    There is no default admin password: with no admin in the database and none given by
    TRACKLET_ADMIN_USERNAME / TRACKLET_ADMIN_PASSWORD, the server refuses to start.

    Raises:
        AuthNotConfigured: saying what to set.
    """
    try:
        default = get_permission(default_permission)
    except Exception as error:
        raise AuthNotConfigured(str(error)) from None
    auth = AuthStore(database_uri)
    if not auth.has_admin():
        username = os.environ.get(ADMIN_USERNAME_VAR, "")
        password = os.environ.get(ADMIN_PASSWORD_VAR, "")
        if not username or not password:
            auth.close()
            raise AuthNotConfigured(
                f"Authentication is on (--app-name basic-auth) but the auth database "
                f"({database_uri}) has no admin user, and tracklet has no default admin "
                f"password. Set {ADMIN_USERNAME_VAR} and {ADMIN_PASSWORD_VAR} for the first "
                "start to create one."
            )
        auth.create_user(username, password, is_admin=True)
    return auth, default
