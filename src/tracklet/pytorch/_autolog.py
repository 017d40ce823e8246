"""``tracklet.pytorch.autolog``: PyTorch Lightning's ``Trainer.fit`` logs what MLflow's
pytorch autologging logs: ``epochs``, the optimizer's name and defaults, epoch (and with
``log_every_n_step`` step) metrics from ``trainer.callback_metrics``, early-stopping params
and metrics, ``model_summary.txt``, checkpoints, and the model with a signature taken from the
first training batch. Metrics go through the asynchronous path in batches."""

from __future__ import annotations

import logging
from typing import Any

from tracklet.autolog import autologging_integration
from tracklet.autolog._patch import safe_patch

_logger = logging.getLogger("tracklet.autolog")
FLAVOR_NAME = "pytorch"


@autologging_integration(FLAVOR_NAME)
def autolog(
    log_every_n_epoch: int = 1,
    log_every_n_step: int | None = None,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: dict[str, str] | None = None,
    checkpoint: bool = True,
    checkpoint_monitor: str | None = "val_loss",
    checkpoint_mode: str = "min",
    checkpoint_save_best_only: bool = True,
    checkpoint_save_weights_only: bool = False,
    checkpoint_save_freq: Any = "epoch",
    log_model_signatures: bool = True,
) -> None:
    """Enable (or disable) autologging of PyTorch Lightning ``Trainer.fit`` (MLflow's
    arguments). ``log_datasets`` is accepted as MLflow accepts it: Lightning fits log no data
    set in MLflow 3.17.2 either.

    Args:
        log_every_n_epoch: Log epoch metrics every n epochs.
        log_every_n_step: Also log step metrics every n steps (None: never).
        log_models: Log the trained module as the ``model`` (pickle format).
        log_datasets: See above.
        disable: Remove the patches.
        exclusive: Do not log into runs the user started.
        disable_for_unsupported_versions: Do nothing for untested versions.
        silent: No warnings from autologging.
        registered_model_name: Register the logged model under this name.
        extra_tags: Tags for each run autologging creates.
        checkpoint: Log checkpoints during training.
        checkpoint_monitor: The metric deciding the best checkpoint.
        checkpoint_mode: "min" or "max" for ``checkpoint_monitor``.
        checkpoint_save_best_only: Keep only the best checkpoint (``checkpoints/latest_...``).
        checkpoint_save_weights_only: Save the weights only.
        checkpoint_save_freq: "epoch", or every that many batches.
        log_model_signatures: Infer the signature from the first training batch.
    """
    from tracklet.pytorch import _lightning

    for package in ("pytorch_lightning", "lightning"):
        try:
            module = __import__(package)
        except ImportError:
            continue
        safe_patch(
            FLAVOR_NAME,
            module.Trainer,
            "fit",
            _lightning.patched_fit,
            manage_run=True,
            extra_tags=extra_tags,
        )
