"""Models written by tracklet load in MLflow 3.17.2 (test-only dependency) and predict the
same values; models MLflow wrote load in tracklet. Every flavor, both directions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import tracklet


@dataclass
class Case:
    flavor: str
    model: Any
    x: Any
    predict: Callable[[Any], Any]
    kwargs: dict[str, Any] = field(default_factory=dict)


def _data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.normal(size=(80, 3)), columns=["f0", "f1", "f2"])
    y = (x["f0"] - x["f2"] > 0).astype("int64").to_numpy()
    return x, y


def _sklearn(fmt: str) -> Case:
    from sklearn.linear_model import LogisticRegression

    x, y = _data()
    model = LogisticRegression().fit(x, y)
    return Case("sklearn", model, x, model.predict, {"serialization_format": fmt})


def _xgb_classifier() -> Case:
    import xgboost as xgb

    x, y = _data()
    model = xgb.XGBClassifier(n_estimators=4, max_depth=2).fit(x, y)
    return Case("xgboost", model, x, model.predict)


def _xgb_booster() -> Case:
    import xgboost as xgb

    x, y = _data()
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(x, label=y), num_boost_round=3)
    return Case("xgboost", booster, x, lambda d: booster.predict(xgb.DMatrix(d)))


def _lgb_classifier(fmt: str) -> Case:
    import lightgbm as lgb

    x, y = _data()
    model = lgb.LGBMClassifier(n_estimators=4, min_child_samples=5, verbose=-1).fit(x, y)
    return Case("lightgbm", model, x, model.predict, {"serialization_format": fmt})


def _lgb_booster() -> Case:
    import lightgbm as lgb

    x, y = _data()
    train = lgb.Dataset(x, label=y, params={"verbose": -1})
    booster = lgb.train({"verbose": -1, "min_data_in_leaf": 5}, train, num_boost_round=3)
    return Case("lightgbm", booster, x, booster.predict)


class _Net:  # built lazily so torch is imported only by the torch cases
    @staticmethod
    def make() -> Any:
        import torch

        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))


def _torch(fmt: str) -> Case:
    import torch

    net = _Net.make().eval()
    x = np.random.default_rng(2).normal(size=(16, 3)).astype(np.float32)

    def native(d: Any) -> Any:
        with torch.no_grad():
            return net(torch.from_numpy(d)).numpy()

    kwargs: dict[str, Any] = {"serialization_format": fmt}
    if fmt == "pt2":
        kwargs["input_example"] = x[:4]
    return Case("pytorch", net, x, native, kwargs)


CASES: dict[str, Callable[[], Case]] = {
    "sklearn-skops": lambda: _sklearn("skops"),
    "sklearn-cloudpickle": lambda: _sklearn("cloudpickle"),
    "sklearn-pickle": lambda: _sklearn("pickle"),
    "xgboost-classifier": _xgb_classifier,
    "xgboost-booster": _xgb_booster,
    "lightgbm-classifier-skops": lambda: _lgb_classifier("skops"),
    "lightgbm-classifier-cloudpickle": lambda: _lgb_classifier("cloudpickle"),
    "lightgbm-booster": _lgb_booster,
    "pytorch-pickle": lambda: _torch("pickle"),
    "pytorch-pt2": lambda: _torch("pt2"),
}


def _same(a: Any, b: Any) -> bool:
    return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=1e-6))


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest, allow_pickle: None) -> Case:
    return CASES[request.param]()


def test_tracklet_model_loads_in_mlflow(case: Case, tmp_path: Path) -> None:
    import mlflow

    path = str(tmp_path / "model")
    getattr(tracklet, case.flavor).save_model(case.model, path, **case.kwargs)
    expected = case.predict(case.x)
    assert _same(mlflow.pyfunc.load_model(path).predict(case.x), expected)
    native = getattr(mlflow, case.flavor).load_model(path)
    assert _same(
        Case(case.flavor, native, case.x, _native_predict(case, native)).predict(case.x), expected
    )
    assert _same(tracklet.pyfunc.load_model(path).predict(case.x), expected)


def test_mlflow_model_loads_in_tracklet(case: Case, tmp_path: Path) -> None:
    import mlflow

    path = str(tmp_path / "model")
    # Explicit requirements keep MLflow from spending seconds inferring them.
    getattr(mlflow, case.flavor).save_model(
        case.model, path, pip_requirements=["placeholder"], **case.kwargs
    )
    expected = case.predict(case.x)
    assert _same(tracklet.pyfunc.load_model(path).predict(case.x), expected)
    native = getattr(tracklet, case.flavor).load_model(path)
    assert _same(_native_predict(case, native)(case.x), expected)


def _native_predict(case: Case, model: Any) -> Callable[[Any], Any]:
    """``case.predict`` for another instance of the same model."""
    if case.flavor == "xgboost" and type(model).__name__ == "Booster":
        import xgboost as xgb

        return lambda d: model.predict(xgb.DMatrix(d))
    if case.flavor == "pytorch":
        import torch

        def run(d: Any) -> Any:
            with torch.no_grad():
                return model(torch.from_numpy(d)).numpy()

        return run
    return model.predict  # type: ignore[no-any-return]


def test_mlmodel_files_match_mlflow_field_for_field(tmp_path: Path, allow_pickle: None) -> None:
    """The same model saved by both: identical MLmodel keys and flavor configurations."""
    import mlflow
    import yaml

    case = _sklearn("cloudpickle")
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    tracklet.sklearn.save_model(case.model, str(ours), input_example=case.x.head(2), **case.kwargs)
    mlflow.sklearn.save_model(
        case.model, str(theirs), input_example=case.x.head(2), pip_requirements=["x"], **case.kwargs
    )
    a = yaml.safe_load((ours / "MLmodel").read_text())
    b = yaml.safe_load((theirs / "MLmodel").read_text())
    for volatile in ("utc_time_created", "model_uuid", "model_size_bytes"):
        a.pop(volatile)
        b.pop(volatile)
    assert a == b
    assert sorted(p.name for p in ours.iterdir()) == sorted(p.name for p in theirs.iterdir())
    for name in ("input_example.json", "serving_input_example.json"):
        assert (ours / name).read_text() == (theirs / name).read_text()
    assert (ours / "python_env.yaml").read_text() == (theirs / "python_env.yaml").read_text()


def test_logged_model_round_trips_through_both_stores(
    store: str, tmp_path: Path, allow_pickle: None
) -> None:
    """A model logged to tracklet's store loads in MLflow from its artifact location, and a
    model MLflow logged to its own store loads in tracklet from MLflow's ``models:/`` path."""
    import mlflow

    case = _sklearn("cloudpickle")
    expected = case.predict(case.x)
    with tracklet.start_run():
        info = tracklet.sklearn.log_model(case.model, name="m", **case.kwargs)
    location = tracklet.get_logged_model(info.model_id).artifact_location
    assert _same(mlflow.pyfunc.load_model(location).predict(case.x), expected)

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        with mlflow.start_run():
            theirs = mlflow.sklearn.log_model(
                case.model, name="m", pip_requirements=["x"], **case.kwargs
            )
        their_location = mlflow.get_logged_model(theirs.model_id).artifact_location
    finally:
        mlflow.set_tracking_uri(None)
    assert _same(tracklet.pyfunc.load_model(their_location).predict(case.x), expected)
