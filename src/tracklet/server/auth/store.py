"""Users, access tokens and per-resource grants, in their own database (like MLflow's
``basic_auth.db``), with the in-process caches that keep authentication off the hot path.

A password is hashed with argon2 (argon2-cffi), which costs tens of milliseconds by design; a
request must not pay that. So a successful check is cached under a SHA-256 digest of the
credentials (never the password itself) for CACHE_SECONDS, and so are grant lookups;
changing a password, an admin flag, a grant or deleting a user clears them in this process
(other worker processes see the change within CACHE_SECONDS).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tracklet.exceptions import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)
from tracklet.server.auth.migrations import migrate
from tracklet.server.auth.permissions import Permission, check_resource_type, get_permission

CACHE_SECONDS = 60.0
FAILURE_SECONDS = 5.0  # a failed password is not re-hashed for this long
TOKEN_PREFIX = "tkl_"

_metadata = sa.MetaData()
users = sa.Table(
    "users",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(255), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
)
grants = sa.Table(
    "grants",
    _metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE")),
    sa.Column("resource_type", sa.String(32), nullable=False),
    sa.Column("resource_id", sa.String(500), nullable=False),
    sa.Column("permission", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("user_id", "resource_type", "resource_id"),
)
tokens = sa.Table(
    "access_tokens",
    _metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE")),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
)


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    is_admin: bool

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "is_admin": self.is_admin}


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).digest()


class AuthStore:
    """The auth database and its caches; safe to share between threads."""

    def __init__(self, uri: str) -> None:
        from argon2 import PasswordHasher

        from tracklet.store.sql.engine import normalize_db_uri

        # Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): each check costs
        # a few tens of milliseconds, and the caches below make it one check per credential.
        self._hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
        self._engine = sa.create_engine(normalize_db_uri(uri))
        if self._engine.dialect.name == "sqlite":
            sa.event.listen(
                self._engine, "connect", lambda c, _: c.execute("PRAGMA foreign_keys = ON")
            )
        migrate(self._engine)
        self._lock = threading.Lock()
        self._credentials: dict[bytes, tuple[User, float]] = {}
        self._grants: dict[tuple[int, str, str], tuple[str | None, float]] = {}
        self._failures: dict[bytes, float] = {}

    def close(self) -> None:
        self._engine.dispose()

    # ------------------------------------------------------------------ users

    def has_admin(self) -> bool:
        with self._engine.connect() as conn:
            query = sa.select(sa.func.count()).where(users.c.is_admin.is_(True))
            return bool(conn.execute(query).scalar())

    def create_user(self, username: object, password: object, is_admin: bool = False) -> User:
        if not isinstance(username, str) or not isinstance(password, str):
            raise MlflowException("Username and password must be strings.", INVALID_PARAMETER_VALUE)
        if not username or not password:
            raise MlflowException("Username and password cannot be empty.", INVALID_PARAMETER_VALUE)
        hashed = self._hasher.hash(password)
        try:
            with self._engine.begin() as conn:
                row = conn.execute(
                    users.insert().values(
                        username=username, password_hash=hashed, is_admin=is_admin
                    )
                )
                key: Any = row.inserted_primary_key
                user_id = int(key[0])
        except sa.exc.IntegrityError:
            raise MlflowException(
                f"User (username={username}) already exists.", RESOURCE_ALREADY_EXISTS
            ) from None
        return User(user_id, username, is_admin)

    def _row(self, username: object, *columns: Any) -> Any:
        with self._engine.connect() as conn:
            return conn.execute(sa.select(*columns).where(users.c.username == username)).first()

    def get_user(self, username: object) -> User:
        if not isinstance(username, str) or not username:
            raise MlflowException(
                f"Invalid username {username!r}: a non-empty string", INVALID_PARAMETER_VALUE
            )
        row = self._row(username, users.c.id, users.c.username, users.c.is_admin)
        if row is None:
            raise MlflowException(
                f"User with username={username} not found", RESOURCE_DOES_NOT_EXIST
            )
        return User(int(row[0]), str(row[1]), bool(row[2]))

    def list_users(self) -> list[User]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(users.c.id, users.c.username, users.c.is_admin).order_by(users.c.id)
            ).all()
        return [User(int(r[0]), str(r[1]), bool(r[2])) for r in rows]

    def update_user(
        self, username: object, password: str | None = None, is_admin: bool | None = None
    ) -> None:
        user = self.get_user(username)
        values: dict[str, Any] = {}
        if password is not None:
            if not isinstance(password, str) or not password:
                raise MlflowException("Password cannot be empty.", INVALID_PARAMETER_VALUE)
            values["password_hash"] = self._hasher.hash(password)
        if is_admin is not None:
            values["is_admin"] = bool(is_admin)
        if values:
            with self._engine.begin() as conn:
                conn.execute(users.update().where(users.c.id == user.id).values(**values))
        self.forget()

    def delete_user(self, username: object) -> None:
        user = self.get_user(username)
        with self._engine.begin() as conn:
            conn.execute(grants.delete().where(grants.c.user_id == user.id))
            conn.execute(tokens.delete().where(tokens.c.user_id == user.id))
            conn.execute(users.delete().where(users.c.id == user.id))
        self.forget()

    def forget(self, credentials: bool = True) -> None:
        """Drop cached grants, and credentials too unless only grants changed (a grant must not
        cost every signed-in user another argon2 run)."""
        with self._lock:
            self._grants.clear()
            if credentials:
                self._credentials.clear()
                self._failures.clear()

    # ------------------------------------------------------------------ credentials

    def cached(self, check: Any, *args: str) -> User | None:
        """The user a still-valid cached ``authenticate(*args)`` or ``authenticate_token``
        found, without touching the database; None if it must run."""
        kind = "basic" if check == self.authenticate else "token"
        cached = self._credentials.get(_digest(kind, *args))
        return cached[0] if cached is not None and cached[1] > time.monotonic() else None

    def authenticate(self, username: str, password: str) -> User | None:
        """The user whose password this is, or None; argon2 runs once per CACHE_SECONDS."""
        key = _digest("basic", username, password)
        cached = self._credentials.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        row = self._row(username, users.c.id, users.c.password_hash, users.c.is_admin)
        if row is None:
            return None
        from argon2.exceptions import VerificationError

        failed_until = self._failures.get(key, 0.0)
        if failed_until > time.monotonic():
            return None  # the same wrong password again: no second argon2 run for it
        try:
            self._hasher.verify(str(row[1]), password)
        except (VerificationError, ValueError):
            with self._lock:
                if len(self._failures) > 10_000:
                    self._failures.clear()
                self._failures[key] = time.monotonic() + FAILURE_SECONDS
            return None
        user = User(int(row[0]), username, bool(row[2]))
        self._remember(key, user)
        return user

    def create_token(self, user: User) -> str:
        """A new access token for ``user`` (shown once; only its SHA-256 is kept)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._engine.begin() as conn:
            conn.execute(
                tokens.insert().values(
                    token_hash=_digest("token", token).hex(),
                    user_id=user.id,
                    created_ms=int(time.time() * 1000),
                )
            )
        return token

    def revoke_tokens(self, user: User) -> int:
        with self._engine.begin() as conn:
            count = conn.execute(tokens.delete().where(tokens.c.user_id == user.id)).rowcount
        self.forget()
        return int(count)

    def authenticate_token(self, token: str) -> User | None:
        key = _digest("token", token)
        cached = self._credentials.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(users.c.id, users.c.username, users.c.is_admin)
                .select_from(tokens.join(users, users.c.id == tokens.c.user_id))
                .where(tokens.c.token_hash == key.hex())
            ).first()
        if row is None:
            return None
        user = User(int(row[0]), str(row[1]), bool(row[2]))
        self._remember(key, user)
        return user

    def _remember(self, key: bytes, user: User) -> None:
        with self._lock:
            if len(self._credentials) > 10_000:
                self._credentials.clear()  # bounded against floods of distinct credentials
            self._credentials[key] = (user, time.monotonic() + CACHE_SECONDS)

    # ------------------------------------------------------------------ grants

    def grant(self, user: User, resource_type: object, resource_id: object, name: object) -> None:
        """Set ``user``'s permission on a resource (replacing any earlier one)."""
        kind = check_resource_type(resource_type)
        permission = get_permission(name)
        if not isinstance(resource_id, str) or not resource_id:
            raise MlflowException("resource_id must be a non-empty string", INVALID_PARAMETER_VALUE)
        with self._engine.begin() as conn:
            key = sa.and_(
                grants.c.user_id == user.id,
                grants.c.resource_type == kind,
                grants.c.resource_id == resource_id,
            )
            conn.execute(grants.delete().where(key))
            conn.execute(
                grants.insert().values(
                    user_id=user.id,
                    resource_type=kind,
                    resource_id=resource_id,
                    permission=permission.name,
                )
            )
        self.forget(credentials=False)

    def revoke(self, user: User, resource_type: object, resource_id: object) -> None:
        kind = check_resource_type(resource_type)
        with self._engine.begin() as conn:
            deleted = conn.execute(
                grants.delete().where(
                    grants.c.user_id == user.id,
                    grants.c.resource_type == kind,
                    grants.c.resource_id == resource_id,
                )
            ).rowcount
        self.forget(credentials=False)
        if not deleted:
            raise MlflowException(
                f"Permission for user={user.username}, {kind}={resource_id} not found",
                RESOURCE_DOES_NOT_EXIST,
            )

    def granted(self, user_id: int, resource_type: str, resource_id: str) -> str | None:
        """The permission name granted, or None (the default applies)."""
        key = (user_id, resource_type, resource_id)
        cached = self._grants.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        with self._engine.connect() as conn:
            value = conn.execute(
                sa.select(grants.c.permission).where(
                    grants.c.user_id == user_id,
                    grants.c.resource_type == resource_type,
                    grants.c.resource_id == resource_id,
                )
            ).scalar()
        with self._lock:
            if len(self._grants) > 100_000:
                self._grants.clear()
            self._grants[key] = (value, time.monotonic() + CACHE_SECONDS)
        return None if value is None else str(value)

    def permission(
        self, user: User, resource_type: str, resource_id: str, default: Permission
    ) -> Permission:
        name = self.granted(user.id, resource_type, resource_id)
        return default if name is None else get_permission(name)
