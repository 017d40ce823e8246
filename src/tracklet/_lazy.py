"""Lazy exports for package ``__getattr__`` hooks: a name whose module is imported on first read
(what ``import tracklet`` need not pay for), then kept in the package's namespace."""

from __future__ import annotations

import importlib
from typing import Any


def load_export(namespace: dict[str, Any], module: str, name: str) -> object:
    """``module.name``, stored in ``namespace`` so later reads find it without the hook."""
    value = getattr(importlib.import_module(module), name)
    namespace[name] = value
    return value
