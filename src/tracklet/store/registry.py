"""Tracking URI scheme -> store. Implementations are imported only when first used, so that
``import tracklet`` stays light; one store is kept per URI, so its connections are reused."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.store.base import TrackingStore

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

StoreFactory = Callable[[str], TrackingStore]

_ENTRY_POINT_GROUP = "tracklet.tracking_store"
_stores: dict[str, TrackingStore] = {}
_lock = threading.Lock()


def _sql_store(uri: str) -> TrackingStore:
    from tracklet.store.sql.store import SqlStore

    return SqlStore(uri)


def _rest_store(uri: str) -> TrackingStore:
    from tracklet.store.rest.store import RestStore

    store: TrackingStore = RestStore(uri)
    return store


_BUILTIN: dict[str, StoreFactory] = {
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


def get_store(uri: str) -> TrackingStore:
    """The store for ``uri``, created on first use."""
    store = _stores.get(uri)
    if store is not None:
        return store
    with _lock:
        store = _stores.get(uri)
        if store is None:
            check_tracking_uri(uri)
            scheme = scheme_of(uri)
            factory: StoreFactory = _BUILTIN.get(scheme) or _plugin_schemes()[scheme].load()
            store = factory(uri)
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
