"""``tracklet.keras.autolog``: Keras 3 ``Model.fit`` (any backend) logs what MLflow's keras
autologging logs: ``batch_size`` and the other ``fit`` arguments, ``optimizer_*`` params,
``model_summary.txt``, epoch (or every-n-step) metrics and ``validation_*`` metrics, the
training and validation data, and the model with a signature from its input/output specs.
Metrics go through the asynchronous path."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from tracklet.autolog import autologging_integration, get_config, logging_section, model_logger
from tracklet.autolog._patch import safe_patch

_logger = logging.getLogger("tracklet.autolog")
FLAVOR_NAME = "keras"
_UNLOGGED = ["self", "x", "y", "callbacks", "validation_data", "verbose"]


@autologging_integration(FLAVOR_NAME)
def autolog(
    log_every_epoch: bool = True,
    log_every_n_steps: int | None = None,
    log_models: bool = True,
    log_model_signatures: bool = True,
    save_exported_model: bool = False,
    log_datasets: bool = True,
    log_input_examples: bool = False,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    save_model_kwargs: dict[str, Any] | None = None,
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Enable (or disable) autologging of Keras 3 ``Model.fit`` (MLflow's arguments).

    Args:
        log_every_epoch: Log the training metrics at the end of each epoch.
        log_every_n_steps: Log them every n steps instead (``log_every_epoch=False``).
        log_models: Log the trained model as the ``model`` (``.keras`` format).
        log_model_signatures: A signature from the model's input and output specs.
        save_exported_model: Must be False (the exported format needs TensorFlow).
        log_datasets: Record the training and validation data as run inputs.
        log_input_examples: Accepted as MLflow accepts it (its Keras autologging logs none).
        disable: Remove the patch.
        exclusive: Do not log into runs the user started.
        disable_for_unsupported_versions: Do nothing for untested Keras versions.
        silent: No warnings from autologging.
        registered_model_name: Register the logged model under this name.
        save_model_kwargs: Passed to ``model.save``.
        extra_tags: Tags for each run autologging creates.
    """
    import keras  # type: ignore[import-untyped]

    from tracklet.exceptions import NOT_IMPLEMENTED, MlflowException

    if save_exported_model:
        raise MlflowException(
            "save_exported_model=True is not supported: tracklet writes the .keras format.",
            NOT_IMPLEMENTED,
        )
    if log_every_epoch and log_every_n_steps is not None:
        raise ValueError(
            "`log_every_n_steps` must be None if `log_every_epoch=True`, received "
            f"`log_every_epoch={log_every_epoch}` and `log_every_n_steps={log_every_n_steps}`."
        )
    if not log_every_epoch and log_every_n_steps is None:
        raise ValueError("`log_every_n_steps` must be specified if `log_every_epoch=False`.")
    safe_patch(
        FLAVOR_NAME, keras.Model, "fit", _patched_fit, manage_run=True, extra_tags=extra_tags
    )


_callback_class: Any = None


def _callback(logger: Any, model_id: str | None) -> Any:
    global _callback_class
    if _callback_class is None:
        _callback_class = _make_callback_class()
    return _callback_class(logger, model_id)


def _make_callback_class() -> Any:
    import keras

    from tracklet.autolog import exception_safe_methods

    class _AutologCallback(keras.callbacks.Callback):  # type: ignore[misc]
        def __init__(self, logger: Any, model_id: str | None) -> None:
            super().__init__()
            self.logger = logger
            self.model_id = model_id
            self.every_epoch = get_config(FLAVOR_NAME, "log_every_epoch", True)
            self.every_n_steps = get_config(FLAVOR_NAME, "log_every_n_steps", None)

        def on_train_begin(self, logs: Any = None) -> None:
            from tracklet.tracking import fluent_artifacts

            config = self.model.optimizer.get_config()
            self.logger.log_params({f"optimizer_{k}": v for k, v in config.items()})
            lines: list[str] = []
            self.model.summary(print_fn=lambda line, *a, **k: lines.append(line))
            fluent_artifacts.log_text("\n".join(lines), artifact_file="model_summary.txt")

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if self.every_epoch and logs is not None:
                self.logger.record_metrics(_floats(logs), epoch, self.model_id)

        def on_batch_end(self, batch: int, logs: Any = None) -> None:
            if self.every_n_steps is None or logs is None:
                return
            iteration = int(self.model.optimizer.iterations.numpy())
            if iteration % self.every_n_steps == 0:
                self.logger.record_metrics(_floats(logs), iteration, self.model_id)

        def on_test_end(self, logs: Any = None) -> None:
            if logs is not None:
                metrics = {f"validation_{k}": v for k, v in _floats(logs).items()}
                self.logger.record_metrics(metrics, 0, self.model_id)

    return exception_safe_methods(FLAVOR_NAME, _AutologCallback)


def _floats(logs: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in logs.items()}


def _fit_params(
    original: Callable[..., Any], kwargs: dict[str, Any], unlogged: list[str]
) -> dict[str, Any]:
    """MLflow logs the keyword arguments of ``fit`` and the defaults of the others (positional
    arguments are not looked at)."""
    params = {k: v for k, v in kwargs.items() if k not in unlogged}
    for p in inspect.signature(original).parameters.values():
        if p.name not in kwargs and p.name not in unlogged and p.kind is p.POSITIONAL_OR_KEYWORD:
            params[p.name] = p.default
    return params


def _batch_size(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if "batch_size" in kwargs:
        return kwargs["batch_size"]
    data = kwargs["x"] if "x" in kwargs else (args[0] if args else None)
    size = getattr(data, "batch_size", None) or getattr(data, "_batch_size", None)
    return size if isinstance(size, int) or size is None else size.numpy()


def _patched_fit(original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    from tracklet.autolog._training import RunLogger, deferred_model_files, wait_in_background
    from tracklet.tracking import fluent, fluent_models
    from tracklet.tracking.context import current_client

    run = fluent.active_run()
    assert run is not None
    logger = RunLogger(current_client(), run.info.run_id)
    log_models = get_config(FLAVOR_NAME, "log_models", True)
    model_id = None
    with logging_section(FLAVOR_NAME):
        unlogged = list(_UNLOGGED)
        batch_size = _batch_size(args, kwargs)
        if batch_size is not None:
            logger.log_params({"batch_size": batch_size})
            unlogged.append("batch_size")
        logger.log_params(_fit_params(original, kwargs, unlogged))
        if log_models:
            model_id = fluent_models.initialize_logged_model(
                name="model", source_run_id=logger.run_id
            ).model_id
        if get_config(FLAVOR_NAME, "log_datasets", True):
            _log_datasets(args, kwargs, model_id)
    callbacks = list(args[5]) if len(args) >= 6 else list(kwargs.get("callbacks") or [])
    callbacks.append(_callback(logger, model_id))
    if len(args) >= 6:
        args = (*args[:5], callbacks, *args[6:])
    else:
        kwargs = {**kwargs, "callbacks": callbacks}
    history = original(self, *args, **kwargs)
    with logging_section(FLAVOR_NAME):
        logger.flush_metrics()
        if log_models:
            signature = None
            if get_config(FLAVOR_NAME, "log_model_signatures", True):
                try:
                    signature = _signature(self)
                except Exception as error:
                    _logger.warning("Failed to get model signature, reason: %s", error)
            # The files are written on the artifact worker, from a copy of the model.
            with deferred_model_files(FLAVOR_NAME, "model"):
                model_logger(FLAVOR_NAME)(
                    self,
                    name="model",
                    signature=signature,
                    registered_model_name=get_config(FLAVOR_NAME, "registered_model_name"),
                    save_model_kwargs=get_config(FLAVOR_NAME, "save_model_kwargs"),
                    model_id=model_id,
                )
        wait_in_background(FLAVOR_NAME, logger)
    return history


def _signature(model: Any) -> Any:
    """Tensor specs from the model's input and output shapes (None dimensions as -1)."""
    import numpy as np

    from tracklet.models import ModelSignature
    from tracklet.types import Schema, TensorSpec

    def specs(shapes: Any, dtype: Any) -> Any:
        shapes = shapes if isinstance(shapes, list) else [shapes]
        return Schema(
            [TensorSpec(np.dtype(dtype), [-1 if d is None else d for d in s]) for s in shapes]
        )

    return ModelSignature(
        inputs=specs(model.input_shape, model.input_dtype),
        outputs=specs(model.output_shape, model.compute_dtype),
    )


def _log_datasets(args: tuple[Any, ...], kwargs: dict[str, Any], model_id: str | None) -> None:
    try:
        x = kwargs["x"] if "x" in kwargs else args[0]
        y = kwargs["y"] if "y" in kwargs else (args[1] if len(args) >= 2 else None)
        seen: set[tuple[str, str]] = set()
        _log_dataset(x, "train", y, model_id, seen)
        if "validation_data" in kwargs:
            _log_dataset(kwargs["validation_data"], "eval", None, model_id, seen)
    except Exception as error:
        _logger.warning("Failed to log dataset information to MLflow. Reason: %s", error)


def _log_dataset(
    data: Any, context: str, targets: Any, model_id: str | None, seen: set[tuple[str, str]]
) -> None:
    import numpy as np

    from tracklet.data import from_numpy
    from tracklet.data.code_dataset_source import code_source_for_caller
    from tracklet.tracking import fluent

    source = code_source_for_caller()
    if isinstance(data, np.ndarray):
        dataset = from_numpy(data, source=source, targets=targets)
    elif isinstance(data, tuple):
        dataset = from_numpy(data[0], source=source, targets=data[1])
    else:
        _logger.warning("Unrecognized dataset type %s. Dataset logging skipped.", type(data))
        return
    # MLflow keeps the first input of a (name, digest): validation data that is the training
    # data stays "train".
    if (dataset.name, dataset.digest) not in seen:
        seen.add((dataset.name, dataset.digest))
        fluent.log_input(dataset, context, model=model_id)
