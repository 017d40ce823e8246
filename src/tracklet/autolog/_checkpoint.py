"""Checkpoints logged during training (MLflow's ``checkpoint*`` options of the pytorch and
keras autologging): ``checkpoints/latest_checkpoint.<ext>`` with its metrics when only the
best is kept, else ``checkpoints/epoch_<n>/`` or ``checkpoints/global_step_<n>/``; the tag
``mlflow.latest_checkpoint_artifact`` names the newest file."""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

from tracklet.exceptions import MlflowException

_logger = logging.getLogger("tracklet.autolog")
LATEST_CHECKPOINT_ARTIFACT_TAG_KEY = "mlflow.latest_checkpoint_artifact"


class CheckpointLogger:
    """Decides when a checkpoint is due and logs it; ``save`` writes the file itself."""

    def __init__(
        self,
        suffix: str,
        monitor: str | None,
        mode: str,
        save_best_only: bool,
        save_weights_only: bool,
        save_freq: Any,
    ) -> None:
        if save_best_only:
            if monitor is None:
                raise MlflowException(
                    "If checkpoint 'save_best_only' config is set to True, you need to set "
                    "'monitor' config as well."
                )
            if mode not in ("min", "max"):
                raise MlflowException(
                    "If checkpoint 'save_best_only' config is set to True, you need to set "
                    "'mode' config and available modes includes 'min' and 'max', but you set "
                    f"'mode' to '{mode}'."
                )
        self.suffix = suffix
        self.monitor = monitor
        self.mode = mode
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._best: float | None = None

    def _better(self, value: float) -> bool:
        if self._best is None:
            return True
        return value < self._best if self.mode == "min" else value > self._best

    def maybe_save(
        self, save: Any, epoch: int, global_step: int, metrics: dict[str, float]
    ) -> None:
        """Log a checkpoint now if the options call for one (``save(path)`` writes it)."""
        from tracklet.tracking import fluent, fluent_artifacts

        if self.save_best_only:
            if self.monitor not in metrics:
                _logger.warning(
                    "Checkpoint logging is skipped, because checkpoint 'save_best_only' config "
                    "is True, it requires to compare the monitored metric value, but the "
                    "provided monitored metric value is not available."
                )
                return
            value = metrics[self.monitor]
            if not self._better(value):
                return
            self._best = value
        weights = ".weights" if self.save_weights_only else ""
        if self.save_best_only:
            filename = f"latest_checkpoint{weights}{self.suffix}"
            metrics_file = "latest_checkpoint_metrics.json"
            directory = "checkpoints"
        else:
            sub = f"epoch_{epoch}" if self.save_freq == "epoch" else f"global_step_{global_step}"
            filename = f"checkpoint{weights}{self.suffix}"
            metrics_file = "checkpoint_metrics.json"
            directory = f"checkpoints/{sub}"
        fluent.set_tag(LATEST_CHECKPOINT_ARTIFACT_TAG_KEY, f"{directory}/{filename}")
        fluent_artifacts.log_dict(
            {**metrics, "epoch": epoch, "global_step": global_step},
            f"{directory}/{metrics_file}",
        )
        with tempfile.TemporaryDirectory(prefix="tracklet-ckpt-") as tmp:
            path = os.path.join(tmp, filename)
            save(path)
            fluent_artifacts.log_artifact(path, directory)
