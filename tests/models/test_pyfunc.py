"""tracklet.pyfunc: custom PythonModels, schema enforcement on predict, loader mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import tracklet as mlflow
from tracklet.exceptions import MlflowException
from tracklet.models import ColSpec, DataType, Model, ModelSignature, Schema, TensorSpec


class AddN(mlflow.pyfunc.PythonModel):
    def load_context(self, context: Any) -> None:
        self.n = int(Path(context.artifacts["n"]).read_text())

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        scale = (params or {}).get("scale", 1)
        return (model_input["x"] + self.n) * scale


def test_custom_python_model_with_artifacts_and_params(store: str, tmp_path: Path) -> None:
    n_file = tmp_path / "n.txt"
    n_file.write_text("10")
    model = AddN()
    model.n = 10
    example = pd.DataFrame({"x": [1.0, 2.0]})
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(
            name="adder",
            python_model=model,
            artifacts={"n": str(n_file)},
            input_example=(example, {"scale": 2}),
        )
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    assert loaded.predict(pd.DataFrame({"x": [0.0, 5.0]})).tolist() == [20.0, 30.0]
    assert loaded.predict(pd.DataFrame({"x": [0.0]}), params={"scale": 3}).tolist() == [30.0]
    assert isinstance(loaded.unwrap_python_model(), AddN)
    meta = loaded.metadata
    assert meta.flavors["python_function"]["loader_module"] == "mlflow.pyfunc.model"
    assert meta.flavors["python_function"]["artifacts"]["n"]["path"] == "artifacts/n.txt"
    assert meta.signature is not None
    assert meta.signature.params is not None
    assert meta.signature.params.to_dict() == [
        {"name": "scale", "default": 2, "shape": None, "type": "long"}
    ]


def _column_model(tmp_path: Path, signature: ModelSignature) -> Any:
    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return model_input

    path = str(tmp_path / "echo")
    mlflow.pyfunc.save_model(path, python_model=Echo(), signature=signature)
    return mlflow.pyfunc.load_model(path)


def test_columns_are_selected_ordered_and_cast(tmp_path: Path) -> None:
    schema = Schema([ColSpec(DataType.double, "a"), ColSpec(DataType.long, "b")])
    model = _column_model(tmp_path, ModelSignature(inputs=schema))
    out = model.predict(pd.DataFrame({"b": [1, 2], "extra": ["x", "y"], "a": [1, 2]}))
    assert list(out.columns) == ["a", "b"]
    assert out["a"].dtype == np.float64
    assert out["b"].dtype == np.int64
    assert model.predict({"a": [0.5], "b": [3]}).to_dict("list") == {"a": [0.5], "b": [3]}
    with pytest.raises(MlflowException, match="missing inputs"):
        model.predict(pd.DataFrame({"a": [1.0]}))
    with pytest.raises(MlflowException, match="Can not safely convert"):
        model.predict(pd.DataFrame({"a": [1.0], "b": [1.5]}))


def test_tensors_are_cast_and_shape_checked(tmp_path: Path) -> None:
    schema = Schema([TensorSpec(np.dtype("float32"), (-1, 2))])
    model = _column_model(tmp_path, ModelSignature(inputs=schema))
    out = model.predict(np.array([[1, 2]], dtype=np.int64))
    assert out.dtype == np.float32
    with pytest.raises(MlflowException, match="Shape of input"):
        model.predict(np.zeros((2, 3), dtype=np.float32))


def test_unknown_loader_module_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "m"
    path.mkdir()
    meta = Model()
    mlflow.pyfunc.add_to_model(meta, loader_module="mlflow.nosuchflavor")
    meta.save(str(path / "MLmodel"))
    with pytest.raises(MlflowException, match="not available in tracklet"):
        mlflow.pyfunc.load_model(str(path))


def test_model_without_pyfunc_flavor_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m"
    path.mkdir()
    Model(flavors={"custom": {}}).save(str(path / "MLmodel"))
    with pytest.raises(MlflowException, match='does not have the "python_function" flavor'):
        mlflow.pyfunc.load_model(str(path))
    with pytest.raises(MlflowException, match="No model found"):
        mlflow.pyfunc.load_model(str(tmp_path / "missing"))
