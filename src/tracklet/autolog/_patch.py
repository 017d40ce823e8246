"""Safe patching: replace a training method with one that logs, and never break training.

``safe_patch(integration, Cls, "fit", patch_fn)`` installs a wrapper that calls
``patch_fn(original, self, *args, **kwargs)``. The guarantees (MLflow's):

- An exception raised by the user's own code (``original``) reaches the caller unchanged.
- An exception raised by tracklet's logging is caught and reported as a warning (nothing,
  with ``silent=True``); the user's method still runs, and its result is returned.
- With ``manage_run=True`` a fit outside any run gets its own run (tagged
  ``mlflow.autologging``), ended FINISHED, or FAILED if the fit raises; it ends once the work
  autologging queued off the training thread for it is done (``tracking/background.py``).
- Patches never stack: patching an already patched attribute wraps the original again, and
  :func:`revert_patches` puts every original back.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from tracklet.autolog import _config
from tracklet.tracking import background

_logger = logging.getLogger("tracklet.autolog")

MLFLOW_AUTOLOGGING = "mlflow.autologging"
_ORIGINAL = "__tracklet_original__"
_MISSING = object()


class Patch(NamedTuple):
    """One installed patch: what ``destination.name`` was before (``_MISSING`` if inherited).
    (A NamedTuple: a frozen dataclass costs a millisecond of ``import tracklet``.)"""

    destination: Any
    name: str
    saved: Any
    wrapper: Any


# integration -> its installed patches, in installation order.
_patches: dict[str, list[Patch]] = {}


def _unwrap(obj: Any) -> Any:
    """The original behind a tracklet patch wrapper (patches never stack)."""
    while callable(obj) and hasattr(obj, _ORIGINAL):
        obj = getattr(obj, _ORIGINAL)
    return obj


def patch_attribute(integration: str, destination: Any, name: str, wrapper: Any) -> None:
    """Set ``destination.name = wrapper`` and remember how to undo it."""
    saved = vars(destination).get(name, _MISSING)
    setattr(destination, name, wrapper)
    _patches.setdefault(integration, []).append(Patch(destination, name, saved, wrapper))


def revert_patches(integration: str) -> None:
    """Undo every patch of ``integration`` (newest first)."""
    for patch in reversed(_patches.pop(integration, [])):
        current = vars(patch.destination).get(patch.name, _MISSING)
        if current is not patch.wrapper:
            continue  # replaced by someone else since: leave theirs alone
        if patch.saved is _MISSING:
            delattr(patch.destination, patch.name)
        else:
            setattr(patch.destination, patch.name, patch.saved)


def patched(integration: str | None = None) -> list[Patch]:
    """The patches currently installed (of one integration, or of all)."""
    if integration is not None:
        return list(_patches.get(integration, []))
    return [p for ps in _patches.values() for p in ps]


# ---------------------------------------------------------------------- sessions


class AutologgingSession:
    """One outermost patched call; ``state`` becomes "failed" if its logging raised."""

    def __init__(self, integration: str) -> None:
        self.integration = integration
        self.id = os.urandom(16).hex()
        self.state = "running"


class _Sessions(threading.local):
    current: AutologgingSession | None = None


_sessions = _Sessions()


def active_session() -> AutologgingSession | None:
    return _sessions.current


@contextlib.contextmanager
def _session(integration: str) -> Iterator[AutologgingSession]:
    outer = _sessions.current
    if outer is not None:
        yield outer
        return
    session = _sessions.current = AutologgingSession(integration)
    try:
        yield session
    finally:
        _sessions.current = None


# ---------------------------------------------------------------------- warnings


def warn(integration: str, message: str, *args: Any) -> None:
    """A warning from autologging, unless the integration is silent."""
    if not _config.get_config(integration, "silent", False):
        _logger.warning(message, *args)


@contextlib.contextmanager
def logging_section(integration: str) -> Iterator[None]:
    """Run tracklet's own logging code: Python warnings it triggers (sklearn's metric warnings,
    matplotlib's) are not the user's business; they become log records, or nothing if silent.
    The user's training code must not run inside (its warnings are left alone)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        warn(integration, "%s: %s", w.category.__name__, w.message)


# ---------------------------------------------------------------------- managed runs


_training_session_checks: list[Callable[[], bool]] = []


def register_training_session_check(check: Callable[[], bool]) -> None:
    """A flavor's "am I inside one of my training sessions" test: a nested fit there must not
    start a run of its own."""
    _training_session_checks.append(check)


def _in_training_session() -> bool:
    return any(check() for check in _training_session_checks)


def managed_run_tags(integration: str, extra_tags: dict[str, Any] | None) -> dict[str, Any]:
    """``mlflow.autologging`` plus the user's ``extra_tags`` (which may not override it)."""
    from tracklet.exceptions import MlflowException

    tags: dict[str, Any] = {MLFLOW_AUTOLOGGING: integration}
    if extra_tags:
        if not isinstance(extra_tags, dict):
            raise MlflowException.invalid_parameter_value(
                "Invalid `extra_tags` type: expecting dictionary, "
                f"received `{type(extra_tags).__name__}`"
            )
        extra = dict(extra_tags)
        if extra.pop(MLFLOW_AUTOLOGGING, None) is not None:
            warn(
                integration,
                "Tag `%s` is ignored as it is reserved by autologging.",
                MLFLOW_AUTOLOGGING,
            )
        tags.update(extra)
    return tags


def with_managed_run(
    integration: str, patch_fn: Callable[..., Any], extra_tags: dict[str, Any] | None = None
) -> Callable[..., Any]:
    """``patch_fn`` run inside a run of its own when none is active: FINISHED when it returns,
    FAILED when it raises (the exception is re-raised)."""
    tags = managed_run_tags(integration, extra_tags)

    def run_managed(original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        from tracklet.tracking import fluent, fluent_runs

        started = None
        if fluent.active_run() is None and not _in_training_session():
            started = fluent.start_run(tags=tags)
        # The run is ended once the model files queued off this thread are written (its
        # readers wait for that); training returns without waiting for them.
        end = fluent_runs.end_run_after_background_work
        try:
            result = patch_fn(original, *args, **kwargs)
        except BaseException:
            if started is not None:
                end("FAILED")
            raise
        if started is not None:
            end("FINISHED")
        return result

    return run_managed


# ---------------------------------------------------------------------- safe_patch


def _should_pass_through(integration: str) -> bool:
    from tracklet.tracking import fluent

    session = _sessions.current
    if session is not None and session.state == "failed":
        return True
    if _config.is_disabled(integration) or _config.globally_disabled():
        return True
    user_run = fluent.active_run() is not None and session is None
    return bool(user_run and _config.get_config(integration, "exclusive", False))


def safe_patch(
    integration: str,
    destination: Any,
    name: str,
    patch_fn: Callable[..., Any],
    manage_run: bool = False,
    extra_tags: dict[str, Any] | None = None,
) -> None:
    """Replace ``destination.name`` by a wrapper calling ``patch_fn(original, *args, **kwargs)``
    with the guarantees of this module's docstring."""
    if manage_run:
        patch_fn = with_managed_run(integration, patch_fn, extra_tags)
    original = _unwrap(getattr(destination, name))
    raw = _unwrap(_raw_attribute(destination, name))
    if isinstance(raw, (staticmethod, classmethod, property)):
        raise TypeError(f"Unsupported patch on {destination}.{name}")

    def safe_wrapper(*args: Any, **kwargs: Any) -> Any:
        if _should_pass_through(integration):
            return original(*args, **kwargs)
        called = failed_in_original = False
        result: Any = None

        def call_original(*og_args: Any, **og_kwargs: Any) -> Any:
            nonlocal called, failed_in_original, result
            called = True
            try:
                result = original(*og_args, **og_kwargs)
            except BaseException:
                failed_in_original = True
                raise
            return result

        # The patch sees the original's name and signature (metric names are built from them).
        functools.update_wrapper(call_original, original)
        # The artifact worker starts on this call's jobs once it returns (not in the middle).
        with _session(integration) as session, background.held():
            try:
                patch_fn(call_original, *args, **kwargs)
                session.state = "succeeded"
            except BaseException as error:
                session.state = "failed"
                if failed_in_original or not isinstance(error, Exception):
                    raise
                warn(
                    integration,
                    "Encountered unexpected error during %s autologging: %s",
                    integration,
                    error,
                )
            if called:
                return result
            return original(*args, **kwargs)

    functools.update_wrapper(safe_wrapper, original)
    setattr(safe_wrapper, _ORIGINAL, original)
    patch_attribute(integration, destination, name, safe_wrapper)


def _raw_attribute(destination: Any, name: str) -> Any:
    """``name`` as stored on the class (or object) that defines it, bypassing descriptors."""
    owners = getattr(destination, "__mro__", None) or (destination,)
    for owner in owners:
        if name in vars(owner):
            return vars(owner)[name]
    return getattr(destination, name)


# ---------------------------------------------------------------------- exception safety


def exception_safe(integration: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` that warns instead of raising: for callbacks tracklet hands to the user's training
    loop (a failing metric write must not stop an epoch)."""

    @functools.wraps(fn)
    def safe(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as error:
            warn(integration, "Encountered unexpected error during autologging: %s", error)
            return None

    return safe


def exception_safe_methods(integration: str, cls: type) -> type:
    """Make every method defined on ``cls`` exception-safe (see :func:`exception_safe`)."""
    for attr, value in list(vars(cls).items()):
        if callable(value) and not attr.startswith("__") and not isinstance(value, type):
            setattr(cls, attr, exception_safe(integration, value))
    return cls
