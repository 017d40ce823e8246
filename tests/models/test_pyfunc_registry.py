"""Every flavor refuses registered_model_name the same way (tracklet has no model registry)."""

from __future__ import annotations

import pytest

import tracklet
from tracklet.exceptions import MlflowException


class _Echo(tracklet.pyfunc.PythonModel):  # type: ignore[name-defined,misc]
    def predict(self, context: object, model_input: object, params: object = None) -> object:
        return model_input


def test_pyfunc_refuses_registered_model_name(tracking_uri: str) -> None:
    with tracklet.start_run(), pytest.raises(MlflowException) as error:
        tracklet.pyfunc.log_model(name="m", python_model=_Echo(), registered_model_name="reg")
    assert error.value.error_code == "NOT_IMPLEMENTED"
    assert "model registry" in error.value.message
