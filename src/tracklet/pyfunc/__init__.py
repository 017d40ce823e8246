"""``python_function``: the generic flavor every model can be loaded as.

``load_model(uri).predict(data)`` works for every flavor tracklet writes and for models MLflow
wrote: an MLmodel's ``loader_module`` ``mlflow.<flavor>`` is served by ``tracklet.<flavor>``
(MLflow itself is never imported), any other loader module is imported as named.
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

from tracklet.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException
from tracklet.models.flavor import local_model
from tracklet.models.model import Model
from tracklet.models.pyfunc_flavor import CODE as CODE
from tracklet.models.pyfunc_flavor import DATA, FLAVOR_NAME, MAIN, MODEL_CONFIG, add_to_model
from tracklet.models.pyfunc_flavor import ENV as ENV
from tracklet.models.pyfunc_flavor import PY_VERSION as PY_VERSION
from tracklet.pyfunc.model import PythonModel, PythonModelContext, log_model, save_model

_logger = logging.getLogger(__name__)


__all__ = [
    "FLAVOR_NAME",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "add_to_model",
    "load_model",
    "log_model",
    "save_model",
]


def _loader(module_name: str) -> Any:
    """``tracklet.<flavor>`` for ``mlflow.<flavor>``; other loaders as named."""
    if module_name.startswith("mlflow."):
        try:
            return importlib.import_module("tracklet." + module_name[len("mlflow.") :])
        except ModuleNotFoundError:
            pass
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        raise MlflowException(
            f"This model's loader module {module_name!r} is not available in tracklet.",
            RESOURCE_DOES_NOT_EXIST,
        ) from e


class PyFuncModel:
    """A loaded model with ``predict(data, params=None)``: the input is checked against the
    model's input schema, then handed to the flavor's implementation.

    Args:
        model_meta: The model's MLmodel.
        model_impl: The flavor's python_function implementation (from ``_load_pyfunc``).
        predict_fn: The implementation's method ``predict`` calls.
        loader: The MLmodel's ``loader_module`` (shown by ``repr``).
    """

    def __init__(
        self, model_meta: Model, model_impl: Any, predict_fn: str = "predict", loader: str = ""
    ) -> None:
        self._model_meta = model_meta
        self._model_impl = model_impl
        self._predict_fn = getattr(model_impl, predict_fn)
        self._takes_params = _accepts_params(self._predict_fn)
        self.loader_module = loader
        self.input_example: Any = None

    @property
    def metadata(self) -> Model:
        """The model's MLmodel (a Model: flavors, signature, model id, ...)."""
        return self._model_meta

    @property
    def model_id(self) -> str | None:
        """The id of the logged model this was loaded from, or None."""
        return self._model_meta.model_id

    @property
    def model_config(self) -> dict[str, Any]:
        """The python_function flavor's saved model config (a copy), empty if none."""
        conf = self._model_meta.flavors.get(FLAVOR_NAME, {})
        return dict(conf.get(MODEL_CONFIG) or {})

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict on ``data``, checked against (and converted to) the model's input schema.

        Args:
            data: A pandas DataFrame, numpy array, dict or list.
            params: Inference parameters; the defaults of the model's params schema fill the rest.

        Returns:
            The flavor's predictions (a DataFrame, Series, ndarray, list, ...).

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE for input that does not fit the schema.

        Example::

            model = tracklet.pyfunc.load_model(model_info.model_uri)
            model.predict(pandas.DataFrame({"x": [1.0, 2.0]}))
        """
        from tracklet.models.enforce import enforce_schema

        schema = self._model_meta.get_input_schema()
        if schema is not None:
            data = enforce_schema(data, schema)
        params = _params_with_defaults(self._model_meta, params)
        if self._takes_params:
            return self._predict_fn(data, params=params)
        return self._predict_fn(data)

    def get_raw_model(self) -> Any:
        """The flavor's own model object.

        Returns:
            For example the scikit-learn estimator or the PyTorch module.
        """
        getter = getattr(self._model_impl, "get_raw_model", None)
        return getter() if getter is not None else self._model_impl

    def unwrap_python_model(self) -> Any:
        """The custom PythonModel instance of a model saved with ``tracklet.pyfunc.save_model``.

        Returns:
            The PythonModel.

        Raises:
            MlflowException: For a model of another flavor.
        """
        python_model = getattr(self._model_impl, "python_model", None)
        if python_model is None:
            raise MlflowException("Unable to retrieve base model object from pyfunc.")
        return python_model

    def __repr__(self) -> str:
        info = {"flavor": self.loader_module}
        if self.model_id:
            info["model_id"] = self.model_id
        return "tracklet.pyfunc.loaded_model:\n" + "\n".join(f"  {k}: {v}" for k, v in info.items())


def _accepts_params(fn: Any) -> bool:
    import inspect

    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "params" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def _params_with_defaults(meta: Model, params: dict[str, Any] | None) -> dict[str, Any] | None:
    schema = meta.get_params_schema()
    if schema is None:
        return params
    merged = {p.name: p.default for p in schema.params}
    merged.update(params or {})
    return merged


def load_model(
    model_uri: str,
    suppress_warnings: bool = False,
    dst_path: str | None = None,
    model_config: dict[str, Any] | None = None,
) -> PyFuncModel:
    """Load any MLflow-format model as a python function.

    Args:
        model_uri: ``runs:/<run_id>/<path>``, ``models:/<model_id>``, a local path, or an
            artifact URI (``s3://...``, ``mlflow-artifacts:/...``).
        suppress_warnings: Accepted for MLflow compatibility.
        dst_path: Local directory to download the model into.
        model_config: Overrides of the flavor's load-time configuration.

    Returns:
        A PyFuncModel.
    """
    local_path, meta, conf = local_model(model_uri, dst_path, FLAVOR_NAME)
    data_path = os.path.join(local_path, conf[DATA]) if DATA in conf else local_path
    config = {**(conf.get(MODEL_CONFIG) or {}), **(model_config or {})}
    module = _loader(conf[MAIN])
    impl = module._load_pyfunc(data_path, config) if config else module._load_pyfunc(data_path)
    model = PyFuncModel(meta, impl, conf.get("predict_fn", "predict"), conf[MAIN])
    try:
        model.input_example = meta.load_input_example(local_path)
    except Exception as e:  # an unreadable example does not stop the model from loading
        _logger.debug("Failed to load the input example: %s", e)
    return model


load_pyfunc = load_model
