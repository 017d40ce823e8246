"""``tracklet.pytorch.load_model(**kwargs)`` passes its keyword arguments to ``torch.load``."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import tracklet.pytorch  # noqa: E402
from tracklet.exceptions import MlflowException  # noqa: E402


def test_load_model_passes_kwargs_to_torch_load(tmp_path: Path) -> None:
    net = torch.nn.Linear(3, 1)
    tracklet.pytorch.save_model(net, str(tmp_path / "model"), serialization_format="pickle")
    loaded = tracklet.pytorch.load_model(str(tmp_path / "model"), map_location="cpu")
    x = torch.ones(2, 3)
    assert torch.equal(loaded(x), net(x))
    # An argument torch.load does not know reaches it, and is refused there.
    with pytest.raises((TypeError, MlflowException)):
        tracklet.pytorch.load_model(str(tmp_path / "model"), no_such_torch_load_argument=1)
