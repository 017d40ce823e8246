"""MLflow's autologging quick-start examples (sklearn, xgboost, lightgbm, Keras, Lightning), run
unchanged after ``import tracklet as mlflow``, against SQLite and against ``tracklet server``.

The examples are the documentation's, with one change where they download data (MNIST): a
small in-memory data set of the same shape of problem."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from tests.compat.conftest import LiveServer, tracklet_server  # noqa: F401 (a fixture)

pytestmark = pytest.mark.filterwarnings("ignore")

SKLEARN = """
import mlflow

from sklearn.model_selection import train_test_split
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor

mlflow.autolog()

db = load_diabetes()
X_train, X_test, y_train, y_test = train_test_split(db.data, db.target)

rf = RandomForestRegressor(n_estimators=100, max_depth=6, max_features=3)
# MLflow triggers logging automatically upon model fitting
rf.fit(X_train, y_train)
"""

XGBOOST = """
import mlflow
import xgboost as xgb
from sklearn import datasets
from sklearn.model_selection import train_test_split

mlflow.xgboost.autolog()

iris = datasets.load_iris()
X_train, X_test, y_train, y_test = train_test_split(iris.data, iris.target, test_size=0.2)
dtrain = xgb.DMatrix(X_train, label=y_train)
dtest = xgb.DMatrix(X_test, label=y_test)
params = {
    "objective": "multi:softprob",
    "num_class": 3,
    "learning_rate": 0.3,
    "eval_metric": "mlogloss",
    "colsample_bytree": 1.0,
    "subsample": 1.0,
    "seed": 42,
}
model = xgb.train(params, dtrain, evals=[(dtrain, "train")])
"""

LIGHTGBM = """
import mlflow
import lightgbm as lgb
from sklearn import datasets
from sklearn.model_selection import train_test_split

mlflow.lightgbm.autolog()

iris = datasets.load_iris()
X_train, X_test, y_train, y_test = train_test_split(iris.data, iris.target, test_size=0.2)
train_set = lgb.Dataset(X_train, label=y_train)
params = {
    "objective": "multiclass",
    "num_class": 3,
    "learning_rate": 0.1,
    "metric": "multi_logloss",
    "verbose": -1,
}
model = lgb.train(params, train_set, num_boost_round=10, valid_sets=[train_set])
"""

KERAS = """
import os
os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np
import keras
import mlflow

mlflow.keras.autolog()

x_train = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
y_train = (x_train.sum(axis=1) > 0).astype("int64")
model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4, activation="relu"),
                          keras.layers.Dense(2, activation="softmax")])
model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=16, epochs=2, validation_split=0.25, verbose=0)
"""

LIGHTNING = """
import torch
import lightning as L
from torch.utils.data import DataLoader, TensorDataset
import mlflow

class LitModel(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.l1 = torch.nn.Linear(8, 2)

    def forward(self, x):
        return torch.relu(self.l1(x))

    def training_step(self, batch, batch_nb):
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self(x), y)
        self.log("train_loss", loss, on_epoch=True)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=0.02)

x = torch.randn(64, 8)
train_loader = DataLoader(TensorDataset(x, (x.sum(dim=1) > 0).long()), batch_size=16)
trainer = L.Trainer(max_epochs=2, enable_progress_bar=False, enable_model_summary=False,
                    logger=False, enable_checkpointing=False)

mlflow.pytorch.autolog()

with mlflow.start_run() as run:
    trainer.fit(LitModel(), train_loader)
"""

EXAMPLES = {
    "sklearn": (SKLEARN, "sklearn", "training_r2_score"),
    "xgboost": (XGBOOST, "xgboost", "train-mlogloss"),
    "lightgbm": (LIGHTGBM, "lightgbm", "training-multi_logloss"),
    "keras": (KERAS, "keras", "accuracy"),
    "lightning": (LIGHTNING, "pytorch", "train_loss"),
}


@pytest.fixture(params=["sqlite", "server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path / 'examples.db'}"
    else:
        server: LiveServer = request.getfixturevalue("tracklet_server")
        uri = server.url
    os.environ["MLFLOW_TRACKING_URI"] = uri
    return uri


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_quickstart_example_runs_unchanged(example: str, backend: str) -> None:
    source, flavor, metric = EXAMPLES[example]
    if example == "lightning":
        pytest.importorskip("lightning")
    code = textwrap.dedent(source).replace("import mlflow", "import tracklet as mlflow")
    namespace: dict[str, Any] = {"__name__": "__quickstart__"}
    try:
        exec(compile(code, f"<{example} quick-start>", "exec"), namespace)
    finally:
        namespace["mlflow"].autolog(disable=True)
    import tracklet

    run = tracklet.last_active_run()
    assert run is not None
    assert run.info.status == "FINISHED"
    assert run.data.tags.get("mlflow.autologging", flavor) == flavor
    assert any(key.startswith(metric) for key in run.data.metrics), sorted(run.data.metrics)
    assert run.data.params
    models = tracklet.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run.info.run_id}'",
        output_format="list",
    )
    assert [m.name for m in models] == ["model"]
    loaded = tracklet.pyfunc.load_model(f"models:/{models[0].model_id}")
    assert loaded.metadata.flavors.keys() >= {"python_function"}
