"""Each integration's autolog configuration, and the decorator every flavor's ``autolog`` wears.

A flavor's ``autolog(**options)`` records its options here (MLflow's ``AUTOLOGGING_INTEGRATIONS``),
removes the integration's previous patches, and, unless ``disable=True``, applies new ones. The
patches read their options back with :func:`get_config`, so calling ``autolog`` again changes
what the existing code logs without patching twice.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

_logger = logging.getLogger("tracklet.autolog")

# integration name -> the options of its last autolog() call (defaults filled in).
INTEGRATIONS: dict[str, dict[str, Any]] = {}
# Set in a config by tracklet.autolog(): a later flavor.autolog() by the user wins over it.
GLOBALLY_CONFIGURED = "globally_configured"
# Each autolog() call stamps its config with the next number: a post-import hook of an earlier
# tracklet.autolog() call can tell that the user configured the flavor after it.
CONFIGURED_AT = "configured_at"
configurations = itertools.count(1)
# Enabling and disabling hold this lock (reentrant: autolog() calls each flavor's autolog()).
conf_lock = threading.RLock()
_globally_disabled = threading.local()

# integration -> (module whose version counts, pip name, minimum, maximum): MLflow 3.17.2's
# tested range (ml-package-versions.yml), used by disable_for_unsupported_versions.
SUPPORTED_VERSIONS: dict[str, tuple[str, str, str, str]] = {
    "sklearn": ("sklearn", "scikit-learn", "1.6.0", "1.9.1"),
    "xgboost": ("xgboost", "xgboost", "2.1.2", "3.4.1"),
    "lightgbm": ("lightgbm", "lightgbm", "4.6.0", "4.7.0"),
    "pytorch": ("torch", "torch", "2.5.0", "2.14.0"),
    "keras": ("keras", "keras", "3.7.0", "3.15.1"),
    "spark": ("pyspark", "pyspark", "3.4.4", "4.2.0"),
    "pyspark.ml": ("pyspark", "pyspark", "3.4.4", "4.2.0"),
}


# flavor -> its log_model, registered by the flavor's package (its autolog module needs it and
# must not import the package back).
_MODEL_LOGGERS: dict[str, Any] = {}


def register_model_logger(flavor: str, log_model: Any) -> None:
    """Make ``log_model`` the function autologging of ``flavor`` logs models with."""
    _MODEL_LOGGERS[flavor] = log_model


def model_logger(flavor: str) -> Any:
    """The ``log_model`` registered for ``flavor``."""
    return _MODEL_LOGGERS[flavor]


def get_config(integration: str, key: str, default: Any = None) -> Any:
    """The value of option ``key`` of ``integration``'s last ``autolog`` call, or ``default``."""
    config = INTEGRATIONS.get(integration)
    return default if config is None else config.get(key, default)


def is_disabled(integration: str) -> bool:
    """Whether ``integration`` is off: never enabled, ``disable=True``, or an untested version
    of its library with ``disable_for_unsupported_versions=True``."""
    if get_config(integration, "disable", True):
        return True
    return bool(
        get_config(integration, "disable_for_unsupported_versions", False)
        and not version_supported(integration)
    )


def globally_disabled() -> bool:
    """Whether :func:`disable_autologging` is in effect on this thread."""
    return bool(getattr(_globally_disabled, "value", False))


@contextlib.contextmanager
def disable_autologging() -> Iterator[None]:
    """Run a block with every integration's patches passing straight through (used around
    sklearn's cross_val_score and friends, whose inner fits must not log)."""
    previous = globally_disabled()
    _globally_disabled.value = True
    try:
        yield
    finally:
        _globally_disabled.value = previous


# ---------------------------------------------------------------------- versions


_RELEASE = re.compile(r"^\s*v?(\d+(?:\.\d+)*)(.*)$")


def _parse(version: str) -> tuple[tuple[int, ...], bool] | None:
    """(release numbers, is a pre- or dev-release), or None if not PEP 440-like."""
    match = _RELEASE.match(version)
    if match is None:
        return None
    rest = match.group(2).split("+", 1)[0].lower()
    numbers = tuple(int(p) for p in match.group(1).split("."))
    prerelease = bool(re.search(r"(a|b|c|rc|alpha|beta|pre|preview|dev)\d*", rest))
    return numbers, prerelease


def _padded(numbers: tuple[int, ...]) -> tuple[int, ...]:
    return numbers + (0,) * (4 - len(numbers))


def installed_version(integration: str) -> str | None:
    """The installed version of the library behind ``integration``, or None."""
    module_name, pip_name, _, _ = SUPPORTED_VERSIONS[integration]
    try:
        return str(importlib.import_module(module_name).__version__)
    except ImportError:
        return None
    except AttributeError:
        from importlib import metadata  # not at the top: it costs 25 ms of `import tracklet`

        try:
            return metadata.version(pip_name)
        except metadata.PackageNotFoundError:
            return None


def version_supported(integration: str, check_max: bool = True) -> bool:
    """Whether the installed library is within MLflow 3.17.2's tested range (pre-releases are
    not); True for integrations without a range or libraries that are not installed."""
    if integration not in SUPPORTED_VERSIONS:
        return True
    version = installed_version(integration)
    if version is None:
        return True
    parsed = _parse(version)
    if parsed is None or parsed[1]:
        return False
    _, _, low, high = SUPPORTED_VERSIONS[integration]
    current = _padded(parsed[0])
    low_ok = current >= _padded(_parse(low)[0])  # type: ignore[index]
    high_ok = not check_max or current <= _padded(_parse(high)[0])  # type: ignore[index]
    return low_ok and high_ok


def warn_if_too_old(integration: str) -> None:
    if (
        integration in SUPPORTED_VERSIONS
        and not get_config(integration, "disable_for_unsupported_versions", False)
        and not version_supported(integration, check_max=False)
    ):
        _, pip_name, low, _ = SUPPORTED_VERSIONS[integration]
        _logger.warning(
            "MLflow %s autologging is known to be compatible with %s <= %s, but the installed "
            "version is %s. If you encounter errors during autologging, try upgrading / "
            "downgrading %s to a compatible version.",
            integration,
            low,
            pip_name,
            installed_version(integration),
            pip_name,
        )
