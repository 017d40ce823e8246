"""Post-import hooks: run a function when a module is imported (at once if it already is).

``tracklet.autolog()`` registers one per supported library, so ``import sklearn`` after it
enables sklearn autologging. A finder at the front of ``sys.meta_path`` wraps the loader of a
watched module; once the module has executed, the original loader is put back on the module
(nothing of tracklet stays visible on it) and the hooks run.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

_logger = logging.getLogger("tracklet.autolog")

Hook = Callable[[ModuleType], None]

_hooks: dict[str, dict[str, Hook]] = {}  # module name -> hook key -> hook
_lock = threading.RLock()


def register_post_import_hook(hook: Hook, module_name: str, key: str | None = None) -> None:
    """Call ``hook(module)`` when ``module_name`` is imported, or now if it already is.

    A hook registered again under the same ``key`` (default: its qualified name) replaces the
    previous one instead of running twice."""
    key = key or f"{hook.__module__}.{hook.__qualname__}"
    with _lock:
        _hooks.setdefault(module_name, {})[key] = hook
        _install_finder()
        module = sys.modules.get(module_name)
    if module is not None and _fully_imported(module):
        hook(module)


def unregister_post_import_hooks(module_name: str | None = None) -> None:
    """Forget the hooks of ``module_name`` (of every module if None)."""
    with _lock:
        if module_name is None:
            _hooks.clear()
        else:
            _hooks.pop(module_name, None)


def _fully_imported(module: ModuleType) -> bool:
    spec = getattr(module, "__spec__", None)
    return not getattr(spec, "_initializing", False)


def _run_hooks(module: ModuleType) -> None:
    with _lock:
        hooks = list(_hooks.get(module.__name__, {}).values())
    for hook in hooks:
        try:
            hook(module)
        except Exception as error:  # a failing hook must not fail the user's import
            _logger.warning("Post-import hook for %s failed: %s", module.__name__, error)


class _HookLoader:
    """Delegates to the real loader, then runs the hooks."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self._loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        spec = module.__spec__
        if spec is not None:
            spec.loader = self._loader
        module.__loader__ = self._loader
        self._loader.exec_module(module)
        _run_hooks(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _PostImportFinder:
    """Finds nothing itself: it asks the finders after it, and wraps their loader for a watched
    module."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname not in _hooks:
            return None
        for finder in list(sys.meta_path):
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is None:
                continue
            if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _HookLoader(spec.loader)  # type: ignore[assignment]
            return spec
        return None


_finder = _PostImportFinder()


def _install_finder() -> None:
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
