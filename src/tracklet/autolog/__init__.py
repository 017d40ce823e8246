"""Automatic logging: ``tracklet.autolog()`` and the machinery every flavor's ``autolog`` uses.

``tracklet.autolog()`` enables each supported library that is already imported and, through a
post-import hook, each one imported later; ``autolog(disable=True)`` removes every patch.
Nothing here imports a machine-learning library: a flavor's patches are built when its library
is imported.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from types import ModuleType
from typing import Any

from tracklet.autolog._config import (
    CONFIGURED_AT,
    GLOBALLY_CONFIGURED,
    INTEGRATIONS,
    conf_lock,
    configurations,
    disable_autologging,
    get_config,
    is_disabled,
    model_logger,
    register_model_logger,
)
from tracklet.autolog._hooks import register_post_import_hook
from tracklet.autolog._integration import autologging_integration
from tracklet.autolog._patch import (
    MLFLOW_AUTOLOGGING,
    exception_safe,
    exception_safe_methods,
    logging_section,
    patched,
    revert_patches,
    safe_patch,
    warn,
)

_logger = logging.getLogger("tracklet.autolog")

# library imported by the user -> the tracklet flavor whose autolog() it enables.
LIBRARY_TO_FLAVOR = {
    "sklearn": "sklearn",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "keras": "keras",
    "lightning": "pytorch",
    "pytorch_lightning": "pytorch",
    "pyspark": "spark",
    "pyspark.ml": "pyspark.ml",
}
# The flavors with an autolog() in this version of tracklet.
SUPPORTED_FLAVORS = frozenset(
    {"keras", "lightgbm", "pyspark.ml", "pytorch", "sklearn", "spark", "xgboost"}
)

__all__ = [
    "INTEGRATIONS",
    "LIBRARY_TO_FLAVOR",
    "MLFLOW_AUTOLOGGING",
    "SUPPORTED_FLAVORS",
    "autolog",
    "autologging_integration",
    "disable_autologging",
    "exception_safe",
    "exception_safe_methods",
    "get_config",
    "is_disabled",
    "logging_section",
    "model_logger",
    "patched",
    "register_model_logger",
    "revert_patches",
    "safe_patch",
    "warn",
]


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    log_traces: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    extra_tags: dict[str, str] | None = None,
    exclude_flavors: list[str] | None = None,
) -> None:
    """Enable (or, with ``disable=True``, disable) autologging for every supported library.

    Each library's own ``autolog`` receives the arguments it takes, when the library is
    imported (now, if it already is). A flavor's ``autolog`` called by the user wins over this
    call's options for that flavor.

    Args:
        log_input_examples: Log a few training rows with the model.
        log_model_signatures: Infer and log the model's signature.
        log_models: Log the trained model (without it, no example and no signature either).
        log_datasets: Record the training and evaluation data as run inputs.
        log_traces: Passed to the integrations that trace (none of tracklet's flavors do).
        disable: Remove every autologging patch.
        exclusive: Do not log into runs the user started.
        disable_for_unsupported_versions: Leave libraries outside MLflow's tested versions alone.
        silent: No warnings or messages from autologging.
        extra_tags: Tags for every run autologging creates.
        exclude_flavors: Flavors to leave alone (``["sklearn", "pyspark.ml"]``).
    """
    options = {
        "log_input_examples": log_input_examples,
        "log_model_signatures": log_model_signatures,
        "log_models": log_models,
        "log_datasets": log_datasets,
        "log_traces": log_traces,
        "disable": disable,
        "exclusive": exclusive,
        "disable_for_unsupported_versions": disable_for_unsupported_versions,
        "silent": silent,
        "extra_tags": extra_tags,
    }
    excluded = set(exclude_flavors or ())
    called_at = next(configurations)

    def setup(module: ModuleType) -> None:
        with conf_lock:
            flavor = LIBRARY_TO_FLAVOR[module.__name__]
            previous = INTEGRATIONS.get(flavor) or {}
            if previous.get(CONFIGURED_AT, 0) > called_at and not previous.get(
                GLOBALLY_CONFIGURED, False
            ):
                return  # the user called the flavor's own autolog() since: theirs wins
            _enable_flavor(flavor, module.__name__, options)

    for library, flavor in sorted(LIBRARY_TO_FLAVOR.items()):
        if flavor in SUPPORTED_FLAVORS and flavor not in excluded:
            register_post_import_hook(setup, library, key="tracklet.autolog")


def _enable_flavor(flavor: str, library: str, options: dict[str, Any]) -> None:
    autolog_fn = importlib.import_module(f"tracklet.{flavor}").autolog
    previous = INTEGRATIONS.get(flavor)
    if previous and not previous.get(GLOBALLY_CONFIGURED, False) and not options["disable"]:
        # The user configured this flavor with its own autolog(): keep that. (disable=True
        # still removes its patches: MLflow would leave them, the issue asks for none left.)
        return
    accepted = inspect.signature(autolog_fn).parameters
    autolog_fn(**{k: v for k, v in options.items() if k in accepted})
    INTEGRATIONS[flavor][GLOBALLY_CONFIGURED] = True
    if not is_disabled(flavor) and not options["silent"]:
        _logger.info("Autologging successfully enabled for %s.", library)
