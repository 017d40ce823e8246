"""Tracking URI scheme -> store. Implementations are imported only when first used, so that
``import tracklet`` stays light; ``get_store`` keeps one store per URI, so its connections are
reused; ``open_store`` makes one its caller owns (the server, with its artifact root)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.store.base import TrackingStore

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

# What a plugin registers under the entry point: the URI in, a store out.
StoreFactory = Callable[[str], TrackingStore]
# A built-in store also takes the default artifact root for new experiments.
_BuiltinFactory = Callable[[str, str | None], TrackingStore]

_ENTRY_POINT_GROUP = "tracklet.tracking_store"
_stores: dict[str, TrackingStore] = {}
_lock = threading.Lock()


def _sql_store(uri: str, default_artifact_root: str | None) -> TrackingStore:
    from tracklet.store.sql.store import SqlStore

    return SqlStore(uri, default_artifact_root)


def _rest_store(uri: str, default_artifact_root: str | None) -> TrackingStore:
    # The artifact root is not ours to choose: the server behind the URI places artifacts.
    from tracklet.store.rest.store import RestStore

    store: TrackingStore = RestStore(uri)
    return store


_BUILTIN: dict[str, _BuiltinFactory] = {
    "sqlite": _sql_store,
    "postgresql": _sql_store,
    "postgres": _sql_store,
    "http": _rest_store,
    "https": _rest_store,
}


def scheme_of(uri: str) -> str:
    scheme, sep, _ = uri.partition(":")
    if not sep:
        return ""
    return scheme.split("+", 1)[0].lower()


def check_tracking_uri(uri: str) -> None:
    """Refuse, with a clear message, URIs that name no store tracklet has."""
    scheme = scheme_of(uri)
    if scheme in _BUILTIN or scheme in _plugin_schemes():
        return
    if scheme in ("", "file") or (len(scheme) == 1 and uri[1:3] in (":\\", ":/")):
        raise MlflowException(
            f"Tracking URI {uri!r} is a plain path. tracklet has no file store: use a database "
            "URI such as sqlite:///tracklet.db (a file in the working directory), "
            "sqlite:////absolute/path/tracklet.db, postgresql://user@host/db, or a tracking "
            "server's http(s):// address.",
            INVALID_PARAMETER_VALUE,
        )
    supported = ", ".join(sorted(set(_BUILTIN) | set(_plugin_schemes())))
    raise MlflowException(
        f"Unsupported tracking URI {uri!r}: scheme {scheme!r} is not one of {supported}.",
        INVALID_PARAMETER_VALUE,
    )


def _plugin_schemes() -> dict[str, EntryPoint]:
    """Stores other packages register under the ``tracklet.tracking_store`` entry point."""
    from importlib.metadata import entry_points  # slow to import; only needed for plugins

    return {ep.name: ep for ep in entry_points(group=_ENTRY_POINT_GROUP)}


def open_store(uri: str, default_artifact_root: str | None = None) -> TrackingStore:
    """A new store for ``uri``, owned by the caller, who closes it.

    Args:
        uri: A tracking URI whose scheme names a built-in or plugin store.
        default_artifact_root: Where new experiments' artifacts go, for stores that choose it
            (SQL); a REST or plugin store leaves that to the server or plugin behind it.
    """
    check_tracking_uri(uri)
    scheme = scheme_of(uri)
    builtin = _BUILTIN.get(scheme)
    if builtin is not None:
        return builtin(uri, default_artifact_root)
    factory: StoreFactory = _plugin_schemes()[scheme].load()
    return factory(uri)


def get_store(uri: str) -> TrackingStore:
    """The store for ``uri``, created on first use and shared by every caller."""
    store = _stores.get(uri)
    if store is not None:
        return store
    with _lock:
        store = _stores.get(uri)
        if store is None:
            store = open_store(uri)
            _stores[uri] = store
    return store


def reset() -> None:
    """Close and forget every store (tests, and ``set_tracking_uri`` to a new database)."""
    with _lock:
        stores = list(_stores.values())
        _stores.clear()
    for store in stores:
        try:
            store.close()
        except Exception:
            pass
