"""The tracking URI in force: argument -> set_tracking_uri -> MLFLOW_TRACKING_URI -> default.

The default is ``tracklet.db`` in the working directory (never MLflow's ``mlflow.db``).
"""

from __future__ import annotations

import os

from tracklet import env
from tracklet.store.schemes import check_tracking_uri
from tracklet.tracking import _state

DEFAULT_DB_FILE = "tracklet.db"


def default_tracking_uri() -> str:
    return f"sqlite:///{os.path.abspath(DEFAULT_DB_FILE)}"


def get_tracking_uri() -> str:
    """The tracking URI that calls without an explicit one use now: the one given to
    ``set_tracking_uri``, else ``MLFLOW_TRACKING_URI``, else ``sqlite:///<cwd>/tracklet.db``.

    Returns:
        The URI (a database URI such as ``postgresql://...`` or a server's ``http(s)://`` URL).
    """
    if _state.tracking_uri is not None:
        return _state.tracking_uri
    return env.MLFLOW_TRACKING_URI.get() or default_tracking_uri()


def resolve(uri: str | None = None) -> str:
    return uri if uri else get_tracking_uri()


def set_tracking_uri(uri: str | os.PathLike[str]) -> None:
    """Use ``uri`` for every later call that names none; it is also exported to
    ``MLFLOW_TRACKING_URI`` so that subprocesses use it too.

    Args:
        uri: A database URI (``sqlite:///path.db``, ``postgresql://...``) or a tracking
            server's URL (``http://host:5000``).

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a plain path or an unsupported scheme,
            saying what to use instead.

    Example::

        tracklet.set_tracking_uri("sqlite:///mlruns.db")
    """
    text = str(uri)
    check_tracking_uri(text)
    _state.tracking_uri = text
    env.MLFLOW_TRACKING_URI.set(text)


def is_tracking_uri_set() -> bool:
    return _state.tracking_uri is not None or env.MLFLOW_TRACKING_URI.is_set()
