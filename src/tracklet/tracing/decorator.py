"""``@trace``: a span around each call of a function, method, coroutine function, generator
or async generator, with its arguments as inputs and its result as outputs.

The wrapper's per-call work is small: read the active span, make a span object, bind the
arguments to their names (a precomputed fast path for plain signatures), set and reset the
context variable, end the span. Encoding and writing happen on the exporter thread.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, TypeVar

from tracklet.entities import Link, SpanEvent
from tracklet.tracing.api import _experiment_of, check_sampling_ratio, configure, new_span
from tracklet.tracing.context import current_span, switch
from tracklet.tracing.span import Encoded, LiveSpan, capture, to_json

F = TypeVar("F", bound=Callable[..., Any])
_P = inspect.Parameter
_CHUNK_EVENT = "mlflow.chunk.item.{index}"
_CHUNK_VALUE = "mlflow.chunk.value"


def _input_binder(fn: Callable[..., Any]) -> Callable[[tuple[Any, ...], dict[str, Any]], Any]:
    """(args, kwargs) -> the inputs MLflow records: arguments by name, defaults applied, the
    ``self`` (or a class's ``cls``) left out."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return lambda args, kwargs: None
    params = list(signature.parameters.values())
    skip_first = bool(params) and params[0].name in ("self", "cls")
    if all(p.kind is _P.POSITIONAL_OR_KEYWORD for p in params):
        names = [p.name for p in params]
        defaults = {p.name: p.default for p in params if p.default is not _P.empty}
        start = 1 if skip_first else 0

        def fast(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            if len(args) > len(names):
                return slow(args, kwargs)
            bound = dict(zip(names, args, strict=False))
            if kwargs:
                bound.update(kwargs)
            if len(bound) < len(names):
                for name in names:
                    if name not in bound:
                        if name not in defaults:
                            return slow(args, kwargs)
                        bound[name] = defaults[name]
                bound = {name: bound[name] for name in names}
            if start:
                bound.pop(names[0], None)
            return bound

        def slow(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            return _bind(signature, skip_first, args, kwargs)

        return fast
    return lambda args, kwargs: _bind(signature, skip_first, args, kwargs)


def _bind(
    signature: inspect.Signature, skip_first: bool, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return None  # the call itself will raise the TypeError
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    if skip_first and arguments:
        first = next(iter(arguments))
        if first == "self" or isinstance(arguments[first], type):
            del arguments[first]
    return arguments


def trace(
    func: F | None = None,
    name: str | None = None,
    span_type: str = "UNKNOWN",
    attributes: dict[str, Any] | None = None,
    output_reducer: Callable[[list[Any]], Any] | None = None,
    trace_destination: Any = None,
    sampling_ratio_override: float | None = None,
    log_level: Any = None,
    links: Sequence[Link] | None = None,
    description: str | None = None,
) -> Any:
    """Trace every call of ``func``: as ``@trace`` or ``@trace(name=..., span_type=...)``.

    Each call is a span (the root of a new trace outside any span) with the arguments by name
    as inputs and the result as outputs; an exception is recorded on the span (an
    ``exception`` event, status ERROR) and re-raised unchanged.

    Args:
        func: The function, method, coroutine function, generator or async generator.
        name: the span name (default: the function's name).
        span_type: an ``entities.SpanType`` value.
        attributes: attributes set on every span.
        output_reducer: for generators, turns the list of yielded values into the outputs.
        trace_destination: an object with ``experiment_id``: where root spans' traces go.
        sampling_ratio_override: for calls that start a trace, the probability (0.0 to 1.0)
            that it is kept, instead of ``MLFLOW_TRACE_SAMPLING_RATIO``; spans under a kept or
            dropped span follow it.
        log_level: the spans' log level (name or number).
        links: ``Link`` s added to every span (an invalid one is skipped, warned).
        description: the spans' description attribute.

    Returns:
        The traced function (or, without ``func``, the decorator).
    """

    check_sampling_ratio(sampling_ratio_override)

    def decorate(fn: F) -> F:
        if output_reducer is not None and not (
            inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn)
        ):
            from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException

            raise MlflowException(
                "The output_reducer argument is only supported for generator functions.",
                INVALID_PARAMETER_VALUE,
            )
        spec = _Spec(fn, name, span_type, attributes, trace_destination, log_level, description)
        spec.sampling_ratio = sampling_ratio_override
        spec.links = tuple(links or ())
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(fn, spec, output_reducer)  # type: ignore[return-value]
        if inspect.isasyncgenfunction(fn):
            return _wrap_async_generator(fn, spec, output_reducer)  # type: ignore[return-value]
        if inspect.iscoroutinefunction(fn):
            return _wrap_coroutine(fn, spec)  # type: ignore[return-value]
        return _wrap_function(fn, spec)  # type: ignore[return-value]

    return decorate if func is None else decorate(func)


class _Spec:
    """What every span of one decorated function shares."""

    __slots__ = (
        "attributes",
        "bind",
        "description",
        "experiment_id",
        "function_name",
        "links",
        "log_level",
        "name",
        "sampling_ratio",
        "span_type",
    )

    def __init__(
        self,
        fn: Callable[..., Any],
        name: str | None,
        span_type: str,
        attributes: dict[str, Any] | None,
        trace_destination: Any,
        log_level: Any,
        description: str | None,
    ) -> None:
        self.function_name = getattr(fn, "__name__", "function")
        self.name = name or self.function_name
        self.span_type = span_type
        self.attributes = attributes
        self.experiment_id = _experiment_of(trace_destination)
        self.log_level = log_level
        self.description = description
        self.bind = _input_binder(fn)
        self.sampling_ratio: float | None = None
        self.links: tuple[Link, ...] = ()

    def start(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> LiveSpan:
        span = new_span(
            self.name,
            current_span.get(),
            self.span_type,
            self.experiment_id,
            sampling_ratio=self.sampling_ratio,
        )
        span.function_name = self.function_name
        span.inputs_ = capture(self.bind(args, kwargs))
        if (
            self.attributes
            or self.log_level is not None
            or self.description is not None
            or self.links
        ):
            configure(span, self.attributes, self.log_level, self.description, self.links)
        return span


def _wrap_function(fn: Callable[..., Any], spec: _Spec) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not switch.enabled:
            return fn(*args, **kwargs)
        span = spec.start(args, kwargs)
        token = current_span.set(span)
        try:
            result = fn(*args, **kwargs)
        except BaseException as error:
            current_span.reset(token)
            span.record_exception(error)
            span.end()
            raise
        current_span.reset(token)
        span.outputs_ = capture(result)
        span.end()
        return result

    return wrapper


def _wrap_coroutine(fn: Callable[..., Any], spec: _Spec) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not switch.enabled:
            return await fn(*args, **kwargs)
        span = spec.start(args, kwargs)
        token = current_span.set(span)
        try:
            result = await fn(*args, **kwargs)
        except BaseException as error:
            current_span.reset(token)
            span.record_exception(error)
            span.end()
            raise
        current_span.reset(token)
        span.outputs_ = capture(result)
        span.end()
        return result

    return wrapper


def _chunk(span: LiveSpan, index: int, value: Any) -> None:
    span.add_event(
        SpanEvent(_CHUNK_EVENT.format(index=index), attributes={_CHUNK_VALUE: to_json(value)})
    )


def _finish_stream(
    span: LiveSpan, outputs: list[Any], reducer: Callable[[list[Any]], Any] | None
) -> None:
    result: Any = outputs
    if reducer is not None:
        try:
            result = reducer(outputs)
        except Exception:
            result = outputs
    span.outputs_ = Encoded(to_json(result))
    span.end()


def _wrap_generator(
    fn: Callable[..., Iterator[Any]], spec: _Spec, reducer: Callable[[list[Any]], Any] | None
) -> Callable[..., Iterator[Any]]:
    # The span is active only while the generator's own code runs, not between items.
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        if not switch.enabled:
            yield from fn(*args, **kwargs)
            return
        span = spec.start(args, kwargs)
        generator = fn(*args, **kwargs)
        outputs: list[Any] = []
        while True:
            token = current_span.set(span)
            try:
                value = next(generator)
            except StopIteration:
                break
            except BaseException as error:
                span.record_exception(error)
                span.end()
                raise
            finally:
                current_span.reset(token)
            _chunk(span, len(outputs), value)
            outputs.append(value)
            try:
                yield value
            except GeneratorExit:
                getattr(generator, "close", lambda: None)()
                _finish_stream(span, outputs, reducer)
                raise
        _finish_stream(span, outputs, reducer)

    return wrapper


def _wrap_async_generator(
    fn: Callable[..., AsyncIterator[Any]], spec: _Spec, reducer: Callable[[list[Any]], Any] | None
) -> Callable[..., AsyncIterator[Any]]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        if not switch.enabled:
            async for item in fn(*args, **kwargs):
                yield item
            return
        span = spec.start(args, kwargs)
        generator = fn(*args, **kwargs)
        outputs: list[Any] = []
        while True:
            token = current_span.set(span)
            try:
                value = await generator.__anext__()
            except StopAsyncIteration:
                break
            except BaseException as error:
                span.record_exception(error)
                span.end()
                raise
            finally:
                current_span.reset(token)
            _chunk(span, len(outputs), value)
            outputs.append(value)
            yield value
        _finish_stream(span, outputs, reducer)

    return wrapper
