"""Helpers shared by the flavors' patches: nested training sessions, input examples and
signatures, and batched per-step metrics."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from tracklet.autolog._patch import register_training_session_check

INPUT_EXAMPLE_SAMPLE_ROWS = 5


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


class MetricsBatcher:
    """Per-step metrics of one run, queued on the asynchronous path and written in batches by
    its writer thread; :meth:`flush` waits until they are written (end of training)."""

    def __init__(self, run_id: str, model_id: str | None = None) -> None:
        from tracklet.tracking.context import current_client

        self.run_id = run_id
        self.model_id = model_id
        self._client = current_client()
        self._pending: Any = None

    def record(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Queue ``metrics`` at ``step`` (0 if None); returns at once."""
        from tracklet.entities import Metric

        timestamp = int(time.time() * 1000)
        step = step or 0
        batch = [
            Metric(k, float(v), timestamp, step, None, None, self.model_id, self.run_id)
            if self.model_id
            else Metric(k, float(v), timestamp, step)
            for k, v in metrics.items()
        ]
        self._pending = self._client.log_batch(self.run_id, metrics=batch, synchronous=False)

    def flush(self) -> None:
        """Wait until every recorded metric is written (raises the write's error, if any)."""
        if self._pending is not None:
            self._pending.wait()
            self._pending = None
