"""The decorator every flavor's ``autolog`` wears: record its options, revert the flavor's
patches, and call it (which patches) unless ``disable=True``."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from tracklet.autolog import _config
from tracklet.autolog._patch import revert_patches

F = TypeVar("F", bound=Callable[..., Any])


def autologging_integration(name: str) -> Callable[[F], F]:
    """Make ``fn`` the ``autolog`` of integration ``name``: record its options, revert the
    integration's patches, and call ``fn`` (which patches) unless ``disable=True``.

    ``fn`` must take ``disable=False`` and ``silent=False`` (MLflow's rule)."""

    def decorate(fn: F) -> F:
        params = inspect.signature(fn).parameters
        for required in ("disable", "silent"):
            if required not in params or params[required].default is not False:
                raise TypeError(f"autolog() of {name!r} must take {required!r} with default False")
        defaults = {p.name: p.default for p in params.values()}
        names = list(params)

        @functools.wraps(fn)
        def autolog(*args: Any, **kwargs: Any) -> Any:
            with _config.conf_lock:
                config = dict(defaults)
                config.update(zip(names, args, strict=False))
                config.update(kwargs)
                config[_config.CONFIGURED_AT] = next(_config.configurations)
                _config.INTEGRATIONS[name] = config
                revert_patches(name)
                if config.get("disable"):
                    return None
                if not config.get("silent"):
                    _config.warn_if_too_old(name)
                return fn(*args, **kwargs)

        autolog.integration_name = name  # type: ignore[attr-defined]
        return autolog  # type: ignore[return-value]

    return decorate
