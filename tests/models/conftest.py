"""Fixtures for model tests: a tracklet store, small training data, and MLflow (test-only)
configured so that loading any pickled model is allowed."""

from __future__ import annotations

from typing import Any

import pytest

import tracklet


@pytest.fixture
def store(sqlite_uri: str) -> str:
    tracklet.set_tracking_uri(sqlite_uri)
    return sqlite_uri


@pytest.fixture
def frame() -> tuple[Any, Any]:
    """(X, y): a DataFrame of two float columns and an int column, and binary labels."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    x = pd.DataFrame(
        {
            "a": rng.normal(size=60),
            "b": rng.normal(size=60),
            "c": rng.integers(0, 5, size=60),
        }
    )
    y = (x["a"] + x["b"] > 0).astype("int64").to_numpy()
    return x, y


@pytest.fixture
def allow_pickle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
