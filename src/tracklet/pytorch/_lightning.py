"""The patched ``Trainer.fit`` of PyTorch Lightning (``pytorch_lightning`` or ``lightning``).

A callback added to the trainer logs params at train start and metrics after each epoch (and
step); they are buffered and queued on the asynchronous path in batches, so a training step
pays for a dictionary copy, not for a write. The model, its summary and early-stopping results
are logged once training ends."""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from collections.abc import Callable
from typing import Any

from tracklet.autolog import exception_safe_methods, get_config, model_logger
from tracklet.autolog._training import RunLogger, deferred_model_files, wait_in_background

_logger = logging.getLogger("tracklet.autolog")
FLAVOR = "pytorch"
_classes: dict[str, tuple[type, type]] = {}


def _package(trainer: Any) -> Any:
    import importlib

    root = type(trainer).__module__.split(".")[0]
    return importlib.import_module("lightning.pytorch" if root == "lightning" else root)


def _callback_classes(pl: Any) -> tuple[type, type]:
    """(metrics callback, checkpoint callback) deriving from ``pl.Callback`` of this package."""
    if pl.__name__ in _classes:
        return _classes[pl.__name__]

    class _AutologCallback(pl.Callback):  # type: ignore[misc]
        def __init__(self, logger: RunLogger, model_id: str | None) -> None:
            self.logger = logger
            self.model_id = model_id
            self.every_epoch = get_config(FLAVOR, "log_every_n_epoch", 1)
            self.every_step = get_config(FLAVOR, "log_every_n_step", None)
            self.steps_per_training_step = 1
            self.step_metrics: set[str] = set()
            self.epoch_metrics: set[str] = set()
            self.example: Any = None
            self._forward: Any = None
            if not self.every_step and _skips_hooks(pl):
                self.__dict__["on_train_batch_end"] = None  # see _skip_unused_hooks

        def _log(self, trainer: Any, step: int, items: list[tuple[str, Any]]) -> None:
            if trainer.sanity_checking:
                return
            self.logger.record_metrics({n: float(v) for n, v in items}, step, self.model_id)

        def on_train_epoch_end(self, trainer: Any, pl_module: Any, *args: Any) -> None:
            items = [
                (n, v) for n, v in trainer.callback_metrics.items() if n not in self.step_metrics
            ]
            self.epoch_metrics.update(n for n, _ in items)
            if (pl_module.current_epoch + 1) % self.every_epoch == 0:
                self._log(trainer, pl_module.current_epoch, items)

        def on_train_batch_end(self, trainer: Any, pl_module: Any, *args: Any) -> None:
            if not self.every_step:
                return
            metrics = trainer.callback_metrics
            epoch_metrics = self.epoch_metrics
            items = [
                (n, v)
                for n, v in metrics.items()
                if n not in epoch_metrics and f"{n}_step" not in metrics
            ]
            self.step_metrics.update(n for n, _ in items)
            step = trainer.global_step
            if ((step // self.steps_per_training_step) + 1) % self.every_step == 0:
                if trainer.sanity_checking:
                    return
                # The step's tensors as they are (Lightning logs a clone per step, never
                # changed after): float() is called off the training thread, in a batch.
                self.logger.record_metrics(dict(items), step, self.model_id)

        def on_train_start(self, trainer: Any, pl_module: Any) -> None:
            self.logger.set_tags({"Mode": "training"})
            params: dict[str, Any] = {"epochs": trainer.max_epochs}
            if getattr(trainer, "optimizers", None):
                self.steps_per_training_step = len(trainer.optimizers)
                optimizer = trainer.optimizers[0]
                inner = getattr(optimizer, "_optimizer", optimizer)
                params["optimizer_name"] = type(inner).__name__
                params.update(getattr(optimizer, "defaults", {}) or {})
            self.logger.log_params(params)
            if get_config(FLAVOR, "log_models", True) and get_config(
                FLAVOR, "log_model_signatures", True
            ):
                self._capture_first_batch(trainer.strategy.lightning_module)

        def _capture_first_batch(self, module: Any) -> None:
            import torch

            original = module.forward

            @functools.wraps(original)
            def forward(*inputs: Any, **kwargs: Any) -> Any:
                result = original(*inputs, **kwargs)
                if self.example is None:
                    self.example = False
                    if (
                        len(inputs) == 1
                        and isinstance(inputs[0], torch.Tensor)
                        and isinstance(result, torch.Tensor)
                    ):
                        self.example = (inputs[0].detach().cpu(), result.detach().cpu())
                    self.restore_forward()  # one batch is enough: later steps call the original
                return result

            module.forward = forward
            self._forward = module

        def restore_forward(self) -> None:
            if self._forward is not None:
                vars(self._forward).pop("forward", None)
                self._forward = None

        def on_train_end(self, trainer: Any, pl_module: Any) -> None:
            self.logger.flush_metrics(background=True)

        def on_test_end(self, trainer: Any, pl_module: Any) -> None:
            self.logger.set_tags({"Mode": "testing"})
            metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
            self.logger.record_metrics(metrics, 0, self.model_id)
            self.logger.flush_metrics(background=True)

    class _CheckpointCallback(pl.Callback):  # type: ignore[misc]
        def __init__(self) -> None:
            from tracklet.autolog._checkpoint import CheckpointLogger

            self.checkpoints = CheckpointLogger(
                ".pth",
                get_config(FLAVOR, "checkpoint_monitor", "val_loss"),
                get_config(FLAVOR, "checkpoint_mode", "min"),
                get_config(FLAVOR, "checkpoint_save_best_only", True),
                get_config(FLAVOR, "checkpoint_save_weights_only", False),
                get_config(FLAVOR, "checkpoint_save_freq", "epoch"),
            )
            self.trainer: Any = None
            if not isinstance(self.checkpoints.save_freq, int) and _skips_hooks(pl):
                self.__dict__["on_train_batch_end"] = None  # saved at epoch ends: no step hook

        def _save(self, path: str) -> None:
            state = self.trainer._checkpoint_connector.dump_checkpoint(
                self.checkpoints.save_weights_only
            )
            self.trainer.strategy.save_checkpoint(state, path)

        def _check(self, trainer: Any) -> None:
            metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
            self.checkpoints.maybe_save(
                self._save, trainer.current_epoch, trainer.global_step, metrics
            )

        def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
            self.trainer = trainer

        def on_train_batch_end(self, trainer: Any, pl_module: Any, *args: Any) -> None:
            freq = self.checkpoints.save_freq
            if (
                isinstance(freq, int)
                and trainer.global_step > 0
                and trainer.global_step % freq == 0
            ):
                self._check(trainer)

        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            if self.checkpoints.save_freq == "epoch":
                self._check(trainer)

    exception_safe_methods(FLAVOR, _AutologCallback)
    exception_safe_methods(FLAVOR, _CheckpointCallback)
    _skip_unused_hooks(pl, _AutologCallback)
    _skip_unused_hooks(pl, _CheckpointCallback)
    _classes[pl.__name__] = (_AutologCallback, _CheckpointCallback)
    return _classes[pl.__name__]


# Called on the callback directly, not through the trainer's dispatch: they must stay methods.
_DIRECT_HOOKS = frozenset({"on_save_checkpoint", "on_load_checkpoint"})


def _skips_hooks(pl: Any) -> bool:
    """Whether this Lightning skips a hook that is not callable (older ones call each)."""
    call = getattr(getattr(pl, "trainer", None), "call", None)
    return call is not None and hasattr(call, "_call_callback_hooks")


def _skip_unused_hooks(pl: Any, cls: type) -> None:
    """Set the hooks ``cls`` does not define to None. Lightning (>= 1.6) dispatches each hook
    to every callback whose attribute is callable, paying a profiler context, ``state_key``
    and two ``lightning_module`` lookups per call: about ten no-op calls a training step
    per callback, otherwise. (An instance's None for a hook it defines skips that one too.)"""
    if not _skips_hooks(pl):
        return
    for name in vars(pl.Callback):
        if name.startswith("on_") and name not in _DIRECT_HOOKS and name not in vars(cls):
            setattr(cls, name, None)


def _early_stop_params(callback: Any) -> dict[str, Any]:
    names = ("monitor", "mode", "patience", "min_delta", "stopped_epoch")
    return {p: getattr(callback, p) for p in names if hasattr(callback, p)}


def _early_stop_metrics(callback: Any) -> dict[str, float]:
    if callback.stopped_epoch == 0:
        return {}
    metrics = {
        "stopped_epoch": callback.stopped_epoch,
        "restored_epoch": callback.stopped_epoch - max(1, callback.patience),
    }
    if hasattr(callback, "best_score"):
        metrics["best_score"] = float(callback.best_score)
    if hasattr(callback, "wait_count"):
        metrics["wait_count"] = callback.wait_count
    return metrics


def patched_fit(original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    """``Trainer.fit`` with the autologging callbacks added (once) and the model logged after."""
    from tracklet.autolog import disable_autologging, logging_section
    from tracklet.tracking import fluent, fluent_models
    from tracklet.tracking.context import current_client

    pl = _package(self)
    metrics_cls, checkpoint_cls = _callback_classes(pl)
    run = fluent.active_run()
    assert run is not None
    logger = RunLogger(current_client(), run.info.run_id)
    log_models = get_config(FLAVOR, "log_models", True)
    with logging_section(FLAVOR), disable_autologging():
        model_id = None
        if log_models:
            model_id = fluent_models.initialize_logged_model(
                name="model", source_run_id=logger.run_id
            ).model_id
        early_stop = None
        for callback in self.callbacks:
            if isinstance(callback, pl.callbacks.EarlyStopping):
                early_stop = callback
                logger.log_params(_early_stop_params(callback))
        autolog_callback: Any = next(
            (c for c in self.callbacks if isinstance(c, metrics_cls)), None
        )
        if autolog_callback is None:
            autolog_callback = metrics_cls(logger, model_id)
            self.callbacks.append(autolog_callback)
        else:
            autolog_callback.logger, autolog_callback.model_id = logger, model_id
        if get_config(FLAVOR, "checkpoint", True) and not any(
            isinstance(c, checkpoint_cls) for c in self.callbacks
        ):
            self.callbacks.append(checkpoint_cls())
    try:
        result = original(self, *args, **kwargs)
    finally:
        autolog_callback.restore_forward()
    with logging_section(FLAVOR), disable_autologging():
        _after_fit(self, pl, logger, autolog_callback, early_stop, model_id)
    return result


def _after_fit(
    trainer: Any, pl: Any, logger: RunLogger, callback: Any, early_stop: Any, model_id: str | None
) -> None:
    from tracklet.tracking import fluent_artifacts

    signature = None
    if callback.example:
        try:
            from tracklet.models import infer_signature

            inputs, outputs = callback.example
            signature = infer_signature(inputs.numpy(), outputs.numpy())
        except Exception as error:
            _logger.warning(
                "Inferring model signature failed, skip logging signature. root cause: %r", error
            )
    if early_stop is not None:
        metrics = _early_stop_metrics(early_stop)
        if metrics:
            logger.log_metrics(metrics, model_id=model_id)
    summary_cls = _model_summary_class(pl)
    with tempfile.TemporaryDirectory(prefix="tracklet-autolog-") as directory:
        path = os.path.join(directory, "model_summary.txt")
        with open(path, "w") as f:
            f.write(str(summary_cls(trainer.model, max_depth=-1)))
        fluent_artifacts.log_artifact(path)
    if get_config(FLAVOR, "log_models", True):
        # The files are written on the artifact worker, from a copy of the model.
        with deferred_model_files(FLAVOR, "model"):
            model_logger(FLAVOR)(
                trainer.model,
                name="model",
                registered_model_name=get_config(FLAVOR, "registered_model_name"),
                model_id=model_id,
                signature=signature,
                serialization_format="pickle",
            )
        best = getattr(trainer.checkpoint_callback, "best_model_path", None)
        if early_stop is not None and best:
            fluent_artifacts.log_artifact(best, "restored_model_checkpoint")
    wait_in_background(FLAVOR, logger)


def _model_summary_class(pl: Any) -> Any:
    import importlib

    return importlib.import_module(f"{pl.__name__}.utilities.model_summary").ModelSummary
