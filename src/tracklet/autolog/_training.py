"""Helpers shared by the flavors' patches: nested training sessions, input examples and
signatures, and batched per-step metrics."""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from tracklet.autolog._patch import register_training_session_check

INPUT_EXAMPLE_SAMPLE_ROWS = 5
_MAX_PARAM_LENGTH = 6000  # MLflow's autologging client truncates longer values
_BUFFERED_POINTS = 1000


class TrainingSession:
    """A fit in progress; nested fits of the same flavor see it and decide whether to log.

    Subclass once per flavor (each subclass has its own per-thread stack): a fit
    logs if it is the outermost one, or if every session above allows children and none of
    them is the same estimator (a meta-estimator's inner fits log once, not twice)."""

    _local = threading.local()

    def __init_subclass__(cls) -> None:
        cls._local = threading.local()
        register_training_session_check(cls.is_active)

    def __init__(self, estimator: Any, allow_children: bool = True) -> None:
        self.estimator = estimator
        self.allow_children = allow_children
        self._parent: TrainingSession | None = None

    @classmethod
    def _sessions(cls) -> list[TrainingSession]:
        stack: list[TrainingSession] | None = getattr(cls._local, "stack", None)
        if stack is None:
            stack = cls._local.stack = []
        return stack

    def __enter__(self) -> TrainingSession:
        stack = self._sessions()
        if stack:
            self._parent = stack[-1]
            self.allow_children = stack[-1].allow_children and self.allow_children
        stack.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self._sessions().pop()

    def should_log(self) -> bool:
        for session in self._sessions():
            if session is self:
                break
            if session.estimator is self.estimator:
                return False
        return self._parent is None or self._parent.allow_children

    @classmethod
    def is_active(cls) -> bool:
        return bool(cls._sessions())


def resolve_input_example_and_signature(
    get_input_example: Callable[[], Any],
    infer_model_signature: Callable[[Any], Any],
    log_input_example: bool,
    log_model_signature: bool,
    logger: logging.Logger,
) -> tuple[Any, Any]:
    """(input example or None, signature or None or False) as MLflow's autologging decides:
    the example is sampled even when only the signature is wanted (it is inferred from it);
    ``False`` tells ``log_model`` not to infer a signature from the example itself."""
    example = None
    example_error = None
    if log_input_example or log_model_signature:
        try:
            example = get_input_example()
        except Exception as error:
            example_error = str(error)
    signature: Any = None
    signature_error = None
    if log_model_signature:
        try:
            if example is None:
                raise ValueError(f"could not sample data to infer model signature: {example_error}")
            signature = infer_model_signature(example)
        except Exception as error:
            signature_error = f"Failed to infer model signature: {error}"
    if signature is None and example is not None and (not log_model_signature or signature_error):
        signature = False
    if log_input_example and example_error is not None:
        logger.warning("Failed to gather input example: %s", example_error)
    if log_model_signature and signature_error is not None:
        logger.warning(signature_error)
    return (example if log_input_example else None), signature


def deferred_model_files(integration: str, name: str) -> Any:
    """A context in which ``log_model`` writes the model's files on the artifact worker (the
    autologged run ends, and its readers read, once they are written); a failure there is a
    warning of ``integration`` (nothing if silent), never an error of training."""
    from tracklet.autolog._patch import warn
    from tracklet.models.flavor_log import deferred_writes

    def on_error(error: BaseException) -> None:
        warn(integration, "Failed to log the model %r: %s", name, error)

    return deferred_writes(on_error)


def wait_in_background(integration: str, logger: RunLogger) -> None:
    """Wait for ``logger``'s queued writes on the artifact worker rather than here: the run's
    end and its readers wait for that worker; a write's error is a warning of ``integration``
    (as MLflow's autologging reports it)."""
    from tracklet.autolog._patch import warn
    from tracklet.tracking import background

    def wait() -> None:
        try:
            logger.wait()
        except Exception as error:
            warn(
                integration,
                "Encountered unexpected error during %s autologging: %s",
                integration,
                error,
            )

    background.submit(logger.run_id, wait)


class RunLogger:
    """Queues a run's params, tags and metrics on the asynchronous path (metrics keep their
    dataset and model links, as MLflow's autologging client writes them); :meth:`wait`
    returns once everything queued is written, and raises a write's error.

    Per-step metrics (:meth:`record_metrics`) are buffered as given and queued by the
    background worker (``tracking/background.py``) about a thousand points at a time: a
    training step pays for a tuple per value, not for the points, their checks or the
    conversion of a tensor to a float. Chunks are queued in the order recorded, whichever
    thread drains them; readers and ``end_run`` of the run wait for the worker's drains."""

    def __init__(
        self, client: Any, run_id: str, experiment_id: str = "", start_time: int = 0
    ) -> None:
        self.client = client
        self.run_id = run_id
        self.experiment_id = experiment_id
        self.start_time = start_time
        self._pending: dict[str, Any] = {}  # run id -> its latest queued operation
        self._buffer: list[Any] = []
        self._chunks: collections.deque[list[Any]] = collections.deque()
        self._lock = threading.Lock()  # one drain at a time: chunks queue in order
        self._errors: list[Exception] = []  # of drains on the worker, raised by wait()

    def log_params(self, params: dict[str, Any], run_id: str | None = None) -> None:
        from tracklet.entities import Param

        batch = [Param(k, str(v)[:_MAX_PARAM_LENGTH]) for k, v in params.items()]
        self._queue(run_id or self.run_id, params=batch)

    def set_tags(self, tags: dict[str, Any], run_id: str | None = None) -> None:
        from tracklet.entities import RunTag

        self._queue(run_id or self.run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def log_metrics(
        self,
        metrics: dict[str, Any],
        dataset: Any = None,
        model_id: str | None = None,
        run_id: str | None = None,
        step: int | None = None,
    ) -> None:
        from tracklet.entities import Metric

        run_id = run_id or self.run_id
        now = int(time.time() * 1000)
        step = step or 0
        name = dataset.name if dataset is not None else None
        digest = dataset.digest if dataset is not None else None
        batch = [
            Metric(k, float(v), now, step, name, digest, model_id, run_id)
            if (name or model_id)
            else Metric(k, float(v), now, step)
            for k, v in metrics.items()
        ]
        self._queue(run_id, metrics=batch)

    def record_metrics(
        self, metrics: Mapping[str, Any], step: int | None, model_id: str | None = None
    ) -> None:
        """Buffer per-step metrics: numbers, or anything ``float()`` takes (a tensor is
        converted when its chunk is queued, off the training thread)."""
        now = int(time.time() * 1000)
        step = step or 0
        buffer = self._buffer
        for key, value in metrics.items():
            buffer.append((key, value, now, step, model_id))
        if len(buffer) >= _BUFFERED_POINTS:
            self.flush_metrics(background=True)

    def flush_metrics(self, background: bool = False) -> None:
        """Queue the buffered per-step metrics: here, or with ``background`` on the worker
        (started at once, even inside a patched call's ``held()`` block)."""
        if self._buffer:
            self._chunks.append(self._buffer)
            self._buffer = []
        if not self._chunks:
            return
        if background:
            from tracklet.tracking import background as worker

            worker.submit(self.run_id, self._drain, hold=False)
        else:
            self._drain(raise_errors=True)

    def _drain(self, raise_errors: bool = False) -> None:
        from tracklet.entities import Metric

        run_id = self.run_id
        with self._lock:
            while self._chunks:
                chunk = self._chunks.popleft()
                try:
                    points = [
                        Metric(k, float(v), t, s, None, None, m, run_id)
                        if m
                        else Metric(k, float(v), t, s)
                        for k, v, t, s, m in chunk
                    ]
                    self._queue(run_id, metrics=points)
                except Exception as error:
                    if raise_errors:
                        raise
                    self._errors.append(error)  # the worker's: wait() raises it

    def _queue(self, run_id: str, **batch: Any) -> None:
        self._pending[run_id] = self.client.log_batch(run_id, synchronous=False, **batch)

    def wait(self) -> None:
        self.flush_metrics()
        with self._lock:  # after any drain still running on the worker
            pending, self._pending = self._pending, {}
            errors, self._errors = self._errors, []
        for operation in pending.values():
            if operation is not None:
                operation.wait()
        if errors:
            raise errors[0]
