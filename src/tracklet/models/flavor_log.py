"""What every flavor's ``log_model`` does: save the model with the flavor's ``save_model`` and
store it as a logged model's artifacts, linked to the active run.

Inside :func:`deferred_writes` (autologging), the logged model is created and linked to the
run at once, and the rest (saving a copy of the model, uploading its files, marking it READY,
registering it) is queued on the background worker (``tracking/background.py``): readers of
the run or of the model wait for it, and a failure there is reported to ``on_error``.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from tracklet.exceptions import MlflowException
from tracklet.models.model import Model, ModelInfo


class _Deferral(threading.local):
    on_error: Callable[[BaseException], None] | None = None


_deferral = _Deferral()


@contextlib.contextmanager
def deferred_writes(on_error: Callable[[BaseException], None]) -> Iterator[None]:
    """``log_model`` calls of this thread queue the model's files on the background worker;
    ``on_error`` receives what fails there (the model is then FAILED)."""
    previous, _deferral.on_error = _deferral.on_error, on_error
    try:
        yield
    finally:
        _deferral.on_error = previous


# A flavor's log_model arguments that describe the logged model rather than the saved files.
_LOGGED_MODEL_ARGS = (
    "name",
    "artifact_path",
    "params",
    "tags",
    "model_type",
    "step",
    "model_id",
    "metadata",
)


def log_flavor_model(
    save_model: Callable[..., None], flavor_name: str, arguments: dict[str, Any]
) -> ModelInfo:
    """A flavor's ``log_model``, given its arguments (its ``locals()``).

    The logged model's own arguments (``name``, ``params``, ``step``, ...) go to
    :func:`log_model`, every other one to ``save_model``. With ``registered_model_name`` the
    logged model is then registered as that model's next version (waiting up to
    ``await_registration_for`` seconds for it); extra ``**kwargs`` reach ``save_model`` only if
    it takes ``**kwargs`` itself, and are ignored otherwise.
    """
    save_args = dict(arguments)
    extra = dict(save_args.pop("kwargs", None) or {})
    # Named arguments of most flavors; pyfunc receives them in its **kwargs.
    registered_name = save_args.pop("registered_model_name", None) or extra.pop(
        "registered_model_name", None
    )
    await_for = save_args.pop("await_registration_for", None)
    await_for = extra.pop("await_registration_for", await_for)
    if _takes_var_keywords(save_model):
        save_args.update(extra)
    logged = {key: save_args.pop(key) for key in _LOGGED_MODEL_ARGS if key in save_args}

    def register(info: ModelInfo) -> None:
        from tracklet.tracking.client_registry import DEFAULT_AWAIT_MAX_SLEEP_SECONDS
        from tracklet.tracking.fluent_registry import register_model

        version = register_model(
            info.model_uri,
            str(registered_name),
            DEFAULT_AWAIT_MAX_SLEEP_SECONDS if await_for is None else await_for,
        )
        info.registered_model_version = int(version.version)

    return log_model(
        save_model,
        flavor_name,
        **logged,
        then=register if registered_name is not None else None,
        model_arg=next(iter(arguments), None),
        **save_args,
    )


@functools.lru_cache(maxsize=256)
def _takes_var_keywords(fn: Callable[..., Any]) -> bool:
    # Cached: a flavor's save_model does not change, and inspect.signature costs milliseconds.
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(fn).parameters.values()
    )


def log_model(
    save_model: Callable[..., None],
    flavor_name: str,
    name: str | None = None,
    artifact_path: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    then: Callable[[ModelInfo], None] | None = None,
    model_arg: str | None = None,
    **save_kwargs: Any,
) -> ModelInfo:
    """Save a model with ``save_model`` and store it as a logged model's artifacts.

    Without ``model_id``, a logged model is created in the active run's experiment (linked to
    the run as an output at ``step``, with the run's params); with one, the artifacts of that
    initialized model are stored. The model ends READY, or FAILED if saving or uploading fails;
    ``then(info)`` runs once it is READY. Inside :func:`deferred_writes`, saving (a deep copy
    of ``save_kwargs[model_arg]``, the model object) and what follows happen on the background
    worker.
    """
    from tracklet.entities import LoggedModelOutput, LoggedModelStatus
    from tracklet.tracking.context import current_client
    from tracklet.tracking.fluent import active_run
    from tracklet.tracking.fluent_models import create_logged_model_in_context

    if name is not None and artifact_path is not None:
        raise MlflowException.invalid_parameter_value(
            "Both `artifact_path` (deprecated) and `name` parameters were specified. "
            "Please only specify `name`."
        )
    name = name or artifact_path
    client = current_client()
    active = active_run()
    run_id = active.info.run_id if active is not None else None
    # Fetched once: its params go to the model, its metrics at ``step`` are linked to it.
    # Read as stored now: the run's work queued off this thread is not needed here.
    run = client._run_now(run_id) if run_id is not None else None
    if model_id is not None:
        model = client.get_logged_model(model_id)
    else:
        run_params = run.data.params if run is not None else {}
        model = create_logged_model_in_context(
            name=name,
            source_run_id=run_id,
            params={k: str(v) for k, v in {**(params or {}), **run_params}.items()},
            tags={k: str(v) for k, v in (tags or {}).items()} if tags else None,
            model_type=model_type,
        )
    try:
        on_error = _deferral.on_error
        snapshot = None
        if on_error is not None and run is not None:
            snapshot = _snapshot(save_kwargs, model_arg)
        if run is not None:
            client.log_outputs(run.info.run_id, [LoggedModelOutput(model.model_id, step)])
            # Deferred, the points linked are still those logged by now.
            until = int(time.time() * 1000) if snapshot is not None else None
            link = functools.partial(_link_step_metrics, client, model.model_id, run, step, until)
            if snapshot is None:
                link()
        mlflow_model = Model(
            artifact_path=model.artifact_location,
            run_id=run_id,
            model_uuid=model.model_id,
            model_id=model.model_id,
            metadata=metadata,
        )
        if on_error is not None and run_id is not None and snapshot is not None:
            info = ModelInfo(mlflow_model, model)
            _queue_write(client, run_id, info, link, save_model, snapshot, then, on_error)
            return info
        _write(client, model.model_id, mlflow_model, save_model, save_kwargs)
    except BaseException:
        client.finalize_logged_model(model.model_id, LoggedModelStatus.FAILED)
        raise
    logged = client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    info = ModelInfo(mlflow_model, logged)
    if then is not None:
        then(info)
    return info


def _write(
    client: Any,
    model_id: str,
    mlflow_model: Model,
    save_model: Callable[..., None],
    save_kwargs: dict[str, Any],
) -> None:
    with tempfile.TemporaryDirectory(prefix="tracklet-model-") as tmp:
        local_path = os.path.join(tmp, "model")
        save_model(path=local_path, mlflow_model=mlflow_model, **save_kwargs)
        client.log_model_artifacts(model_id, local_path)


def _snapshot(save_kwargs: dict[str, Any], model_arg: str | None) -> dict[str, Any] | None:
    """``save_kwargs`` with a deep copy of the model object (training may go on changing the
    original), or None if it cannot be copied (the model is then written at once)."""
    if model_arg is None or model_arg not in save_kwargs:
        return None
    try:
        return {**save_kwargs, model_arg: copy.deepcopy(save_kwargs[model_arg])}
    except Exception:
        return None


def _queue_write(
    client: Any,
    run_id: str,
    info: ModelInfo,
    link: Callable[[], None],
    save_model: Callable[..., None],
    save_kwargs: dict[str, Any],
    then: Callable[[ModelInfo], None] | None,
    on_error: Callable[[BaseException], None],
) -> None:
    from tracklet.entities import LoggedModelStatus
    from tracklet.tracking import background

    model_id = str(info.model_id)

    def write() -> None:
        try:
            link()
            _write(client, model_id, info._model, save_model, save_kwargs)
        except Exception as error:
            client.finalize_logged_model(model_id, LoggedModelStatus.FAILED)
            on_error(error)
            return
        info._logged_model = client.finalize_logged_model(model_id, LoggedModelStatus.READY)
        if then is not None:
            try:
                then(info)
            except Exception as error:
                on_error(error)

    background.submit(run_id, write, model_id)


def _link_step_metrics(client: Any, model_id: str, run: Any, step: int, until: int | None) -> None:
    """Copy the run's metric points at ``step`` (those stamped by ``until``, in ms, if given)
    to the model (MLflow does this on log)."""
    from tracklet.entities import Metric

    run_id = run.info.run_id
    linked = []
    for key in run.data.metrics:
        for m in client.get_metric_history(run_id, key):
            if (
                m.step == step
                and (until is None or m.timestamp <= until)
                and getattr(m, "model_id", None) is None
            ):
                linked.append(
                    Metric(
                        m.key,
                        m.value,
                        m.timestamp,
                        m.step,
                        getattr(m, "dataset_name", None),
                        getattr(m, "dataset_digest", None),
                        model_id,
                        run_id,
                    )
                )
    if linked:
        client.log_batch(run_id, metrics=linked)
