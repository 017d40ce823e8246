"""PyTorch Lightning autologging against MLflow 3.17.2's: a tiny MLP, a few epochs."""

from __future__ import annotations

import tempfile
from typing import Any

import numpy as np
import pytest
from tests.autolog.conftest import Oracle, assert_same_run

pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::DeprecationWarning", "ignore::FutureWarning"
)


def _fit(log_every_n_step: bool = False) -> Any:
    import pytorch_lightning as pl
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    class Net(pl.LightningModule):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(4, 1)

        def forward(self, x: Any) -> Any:
            return self.layer(x)

        def training_step(self, batch: Any, _: int) -> Any:
            x, y = batch
            loss = torch.nn.functional.mse_loss(self(x), y)
            self.log("train_loss", loss, on_epoch=True, on_step=log_every_n_step)
            return loss

        def validation_step(self, batch: Any, _: int) -> None:
            x, y = batch
            self.log("val_loss", torch.nn.functional.mse_loss(self(x), y))

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=0.05)

    def train() -> None:
        torch.manual_seed(0)
        x = torch.tensor(np.random.default_rng(0).normal(size=(64, 4)), dtype=torch.float32)
        y = x.sum(dim=1, keepdim=True)
        loader = DataLoader(TensorDataset(x, y), batch_size=16)
        trainer = pl.Trainer(
            max_epochs=3,
            enable_progress_bar=False,
            enable_model_summary=False,
            logger=False,
            default_root_dir=tempfile.mkdtemp(),  # each fit its own lightning checkpoint
            callbacks=[pl.callbacks.EarlyStopping("val_loss", patience=5)],
        )
        trainer.fit(Net(), loader, loader)

    return train


def test_lightning_fit_matches_mlflow(oracle: Oracle) -> None:
    import torch

    train = _fit()
    theirs = oracle.mlflow("pytorch", train)
    ours = oracle.tracklet("pytorch", train)
    assert_same_run(ours, theirs, rel=1e-4)
    assert {"train_loss", "val_loss"} <= set(ours.metrics)
    assert {"epochs", "optimizer_name", "lr", "patience"} <= set(ours.params)
    assert "model_summary.txt" in ours.artifacts
    assert "checkpoints/latest_checkpoint.pth" in ours.artifacts
    assert any(a.startswith("restored_model_checkpoint/") for a in ours.artifacts)
    import mlflow

    x = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    mine = mlflow.pyfunc.load_model(ours.model_dirs["model"]).predict(x)
    reference = mlflow.pyfunc.load_model(theirs.model_dirs["model"]).predict(x)
    assert np.allclose(mine, reference, atol=1e-5)
    assert torch.__version__.startswith("2.13.0")


def test_lightning_step_metrics_match_mlflow(oracle: Oracle) -> None:
    import tracklet

    train = _fit(log_every_n_step=True)
    options = {"log_every_n_step": 2, "log_models": False, "checkpoint": False}
    theirs = oracle.mlflow("pytorch", train, **options)
    ours = oracle.tracklet("pytorch", train, **options)
    assert_same_run(ours, theirs, rel=1e-4)
    history = tracklet.MlflowClient().get_metric_history(ours.run.info.run_id, "train_loss_step")
    import mlflow

    reference = mlflow.MlflowClient().get_metric_history(theirs.run.info.run_id, "train_loss_step")
    assert [m.step for m in history] == [m.step for m in reference]
