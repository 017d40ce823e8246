"""Post-training metrics: after an autologged ``fit``, ``sklearn.metrics`` calls on that
model's predictions (and ``model.score`` calls) are logged to the fit's run.

``y_pred = model.predict(X_test); accuracy_score(y_test, y_pred)`` logs
``accuracy_score_X_test`` (the name of the variable holding the data, found in the caller's
frame; ``-2``, ``-3`` ... for further calls) and writes ``metric_info.json`` with each call.
Only ids are kept here (predictions may be numpy arrays, which take no attributes).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from tracklet.autolog import get_config, safe_patch

_logger = logging.getLogger("tracklet.autolog")

_EXCLUDED_METRIC_APIS = ("check_scoring", "get_scorer", "make_scorer", "get_scorer_names")
_RUN_ID_ATTR = "_mlflow_run_id"  # MLflow's attribute name on the fitted estimator


def original_var_name(var: Any, fallback: str) -> str:
    """The name the user's code gives ``var``: walk up from the caller past every frame that
    received it as an argument, and look it up among that frame's locals."""
    if var is None:
        return fallback
    try:
        frame = inspect.currentframe()
        frame = frame.f_back if frame is not None else None
        while frame is not None:
            info = inspect.getargvalues(frame)
            passed = [info.locals[a] for a in info.args if a in info.locals]
            if info.varargs:
                passed.extend(info.locals.get(info.varargs, ()))
            if info.keywords:
                passed.extend(info.locals.get(info.keywords, {}).values())
            if any(var is arg for arg in passed):
                frame = frame.f_back
                continue
            for name, value in frame.f_locals.items():
                if value is var:
                    return str(name)
            return fallback
    except Exception:
        return fallback
    return fallback


class _MetricsManager:
    """Which predictions came from which autologged model's run, and the metric calls made."""

    def __init__(self) -> None:
        self._predictions: dict[int, tuple[str, str, str | None]] = {}
        self._eval_datasets: defaultdict[str | None, defaultdict[str, list[int]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self._calls: defaultdict[str, defaultdict[str, list[tuple[str, str]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self._info_stale: defaultdict[str, bool] = defaultdict(bool)
        self._model_ids: dict[int, str] = {}
        self._enabled = True

    def should_log_post_training_metrics(self) -> bool:
        from tracklet.sklearn._autolog_session import SklearnTrainingSession

        return self._enabled and not SklearnTrainingSession.is_active()

    @contextlib.contextmanager
    def disable_log_post_training_metrics(self) -> Iterator[None]:
        previous, self._enabled = self._enabled, False
        try:
            yield
        finally:
            self._enabled = previous

    @staticmethod
    def run_id_for_model(model: Any) -> str | None:
        return getattr(model, _RUN_ID_ATTR, None)

    @staticmethod
    def register_model(model: Any, run_id: str) -> None:
        setattr(model, _RUN_ID_ATTR, run_id)

    def record_model_id(self, model: Any, model_id: str) -> None:
        self._model_ids[id(model)] = model_id

    def model_id_for_model(self, model: Any) -> str | None:
        return self._model_ids.get(id(model))

    @staticmethod
    def name_with_index(name: str, index: int) -> str:
        return name if index == 0 else f"{name}-{index + 1}"

    def register_eval_dataset(self, model: Any, dataset: Any, name: str) -> str:
        """``name`` for the first data set seen under it, ``name-2``... for further ones."""
        ids = self._eval_datasets[self.run_id_for_model(model)][name]
        if id(dataset) not in ids:
            ids.append(id(dataset))
        return self.name_with_index(name, ids.index(id(dataset)))

    def register_prediction(
        self, run_id: str, dataset_name: str, prediction: Any, model_id: str | None
    ) -> None:
        key = id(prediction)
        self._predictions[key] = (dataset_name, run_id, model_id)
        try:  # an id may be reused once the prediction is collected
            weakref.finalize(prediction, self._predictions.pop, key, None)
        except TypeError:
            pass

    def prediction_info(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[str | None, str | None, str | None]:
        """(run_id, dataset name, model id) of the first argument that is a registered
        prediction."""
        import numpy as np

        for arg in list(args) + list(kwargs.values()):
            if arg is not None and not np.isscalar(arg) and id(arg) in self._predictions:
                dataset_name, run_id, model_id = self._predictions[id(arg)]
                return run_id, dataset_name, model_id
        return None, None, None

    def register_call(self, run_id: str, metric_name: str, dataset_name: str, command: str) -> str:
        calls = self._calls[run_id][metric_name]
        key = f"{self.name_with_index(metric_name, len(calls))}_{dataset_name}"
        calls.append((key, command))
        self._info_stale[run_id] = True
        return key

    def log_metric(self, run_id: str, key: str, value: Any, model_id: str | None) -> None:
        from tracklet.tracking.context import current_client

        client = current_client()
        client.log_metric(run_id, key, float(value), model_id=model_id)
        if self._info_stale[run_id]:
            commands = sorted(
                (c for calls in self._calls[run_id].values() for c in calls), key=lambda c: c[0]
            )
            client.log_dict(run_id, OrderedDict(commands), "metric_info.json")
            self._info_stale[run_id] = False


MANAGER = _MetricsManager()


def is_loggable(value: Any) -> bool:
    import numpy as np

    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


def call_command(self_obj: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """``accuracy_score(y_true=y_test, y_pred=y_pred)``: the call, with variable names."""
    import numpy as np

    def text(arg: Any) -> str:
        if arg is None or np.isscalar(arg):
            if isinstance(arg, str) and len(arg) > 32:
                return repr(arg[:32] + "...")
            return repr(arg)
        return original_var_name(arg, f"<{type(arg).__name__}>")

    names = list(inspect.signature(fn).parameters)
    if self_obj is not None:
        names.pop(0)
        fn_name = f"{type(self_obj).__name__}.{fn.__name__}"
    else:
        fn_name = fn.__name__
    parts = [f"{n}={text(a)}" for n, a in zip(names, args, strict=False)]
    parts += [f"{n}={text(a)}" for n, a in kwargs.items()]
    return f"{fn_name}({', '.join(parts)})"


def _first_arg(method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if args:
        return args[0]
    names = list(inspect.signature(method).parameters)
    return kwargs.get(names[1]) if len(names) > 1 else None


def create_dataset(x: Any, y: Any = None) -> Any:
    """A tracklet dataset of ``x`` (and ``y``) as MLflow's sklearn autologging builds it, or
    None (with a warning) for data types it does not know."""
    import numpy as np

    from tracklet.data import from_numpy, from_pandas
    from tracklet.data.code_dataset_source import code_source_for_caller

    source = code_source_for_caller()
    if type(x).__module__.startswith("pandas") and type(x).__name__ == "DataFrame":
        return from_pandas(x, source=source)
    if hasattr(x, "toarray") and type(x).__module__.startswith("scipy.sparse"):
        x = x.toarray()
        if y is not None and hasattr(y, "toarray"):
            y = y.toarray()
    if isinstance(x, np.ndarray):
        return from_numpy(x, source=source, targets=y)
    _logger.warning("Unrecognized dataset type %s. Dataset logging skipped.", type(x))
    return None


def patched_predict(
    flavor: str, original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any
) -> Any:
    """Remember which run and data set a prediction of an autologged model belongs to."""
    run_id = MANAGER.run_id_for_model(self)
    if not (MANAGER.should_log_post_training_metrics() and run_id):
        return original(self, *args, **kwargs)
    with MANAGER.disable_log_post_training_metrics():
        prediction = original(self, *args, **kwargs)
    data = _first_arg(original, args, kwargs)
    name = MANAGER.register_eval_dataset(self, data, original_var_name(data, "unknown_dataset"))
    MANAGER.register_prediction(run_id, name, prediction, MANAGER.model_id_for_model(self))
    if get_config(flavor, "log_datasets", True):
        try:
            dataset = create_dataset(data)
            if dataset is not None:
                _log_eval_input(run_id, dataset)
        except Exception as error:
            _logger.warning(
                "Failed to log evaluation dataset information to MLflow Tracking. Reason: %s",
                error,
            )
    return prediction


def _log_eval_input(run_id: str, dataset: Any) -> None:
    from tracklet.entities import DatasetInput, InputTag
    from tracklet.tracking.context import current_client, dataset_entity

    entity = DatasetInput(dataset_entity(dataset), [InputTag("mlflow.data.context", "eval")])
    current_client().log_inputs(run_id, [entity])


def patched_metric_api(original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Log ``metric(y_true, prediction)`` when ``prediction`` came from an autologged model."""
    if not MANAGER.should_log_post_training_metrics():
        return original(*args, **kwargs)
    with MANAGER.disable_log_post_training_metrics():
        value = original(*args, **kwargs)
    if is_loggable(value):
        command = call_command(None, original, *args, **kwargs)
        run_id, dataset_name, model_id = MANAGER.prediction_info(args, kwargs)
        if run_id and dataset_name:
            key = MANAGER.register_call(run_id, original.__name__, dataset_name, command)
            MANAGER.log_metric(run_id, key, value, model_id)
    return value


def patched_model_score(original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    """Log ``model.score(X, y)`` of an autologged model as ``<Class>_score_<X name>``."""
    run_id = MANAGER.run_id_for_model(self)
    if not (MANAGER.should_log_post_training_metrics() and run_id):
        return original(self, *args, **kwargs)
    with MANAGER.disable_log_post_training_metrics():
        value = original(self, *args, **kwargs)
    if is_loggable(value):
        command = call_command(self, original, *args, **kwargs)
        data = _first_arg(original, args, kwargs)
        name = MANAGER.register_eval_dataset(self, data, original_var_name(data, "unknown_dataset"))
        key = MANAGER.register_call(run_id, f"{type(self).__name__}_score", name, command)
        MANAGER.log_metric(run_id, key, value, MANAGER.model_id_for_model(self))
    return value


def patch_metric_apis(flavor: str) -> None:
    """Patch every metric function of ``sklearn.metrics`` and every scorer's score function."""
    import sklearn.metrics  # type: ignore[import-untyped]

    for name in sklearn.metrics.__all__:
        fn = getattr(sklearn.metrics, name)
        if (
            name not in _EXCLUDED_METRIC_APIS
            and not inspect.isclass(fn)
            and callable(fn)
            and not name.startswith("plot_")
        ):
            safe_patch(flavor, sklearn.metrics, name, patched_metric_api)
    for scoring in sklearn.metrics.get_scorer_names():
        scorer = sklearn.metrics.get_scorer(scoring)
        safe_patch(flavor, scorer, "_score_func", patched_metric_api)
