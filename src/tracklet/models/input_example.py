"""Input examples: ``input_example.json`` and ``serving_input_example.json`` in MLflow's
formats, and reading them back.

A DataFrame is stored split-oriented (``{"columns": [...], "data": [[...]]}``), an ndarray as
nested lists, a dict of ndarrays as a dict of lists, anything else JSON-able as itself
(``json_object``). A ``(data, params)`` tuple stores params beside the data.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from typing import Any

from tracklet.exceptions import MlflowException

EXAMPLE_FILENAME = "input_example.json"
SERVING_INPUT_FILENAME = "serving_input_example.json"


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes | bytearray):
        return base64.encodebytes(bytes(value)).decode("ascii")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class Example:
    """An input example prepared for saving: its JSON, its serving payload and MLmodel info."""

    def __init__(self, input_example: Any) -> None:
        import numpy as np

        data, params = input_example, None
        if isinstance(input_example, tuple) and len(input_example) == 2:
            data, params = input_example
        self.inference_data = data
        self.inference_params = params
        self.info: dict[str, Any] = {"artifact_path": EXAMPLE_FILENAME}
        if params:
            self.info["example_params"] = "true"
        stored: Any
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover
            pd = None
        if pd is not None and isinstance(data, pd.DataFrame):
            split = data.to_dict(orient="split")
            stored = {"columns": split["columns"], "data": split["data"]}
            serving: dict[str, Any] = {"dataframe_split": stored}
            self.info.update(type="dataframe", pandas_orient="split")
        elif isinstance(data, np.ndarray):
            stored = data.tolist()
            serving = {"inputs": stored}
            self.info["type"] = "ndarray"
        elif (
            isinstance(data, dict)
            and data
            and all(isinstance(v, np.ndarray) for v in data.values())
        ):
            stored = {k: v.tolist() for k, v in data.items()}
            serving = {"inputs": stored}
            self.info["type"] = "ndarray"
        elif isinstance(data, dict | list | str | int | float | bool | dt.datetime):
            stored = data
            serving = {"inputs": data}
            self.info["type"] = "json_object"
        else:
            raise MlflowException.invalid_parameter_value(
                "Expected one of pandas.DataFrame, numpy.ndarray, dict of numpy.ndarray, dict, "
                f"list, scalar or datetime as an input example, got '{type(data)}'"
            )
        if params:
            stored = {"data": stored, "params": params}
            serving = {**serving, "params": params}
        self.json = json.dumps(stored, default=_json_default)
        self.serving_json = json.dumps(serving, default=_json_default, indent=2)
        self.info["serving_input_path"] = SERVING_INPUT_FILENAME

    def save(self, path: str) -> None:
        with open(os.path.join(path, EXAMPLE_FILENAME), "w", encoding="utf-8") as f:
            f.write(self.json)
        with open(os.path.join(path, SERVING_INPUT_FILENAME), "w", encoding="utf-8") as f:
            f.write(self.serving_json)


def load_example(path: str, info: dict[str, Any]) -> Any:
    """The input example saved in model directory ``path`` with MLmodel info ``info``."""
    with open(os.path.join(path, info["artifact_path"]), encoding="utf-8") as f:
        stored = json.load(f)
    if info.get("example_params"):
        stored = stored["data"]
    kind = info.get("type")
    if kind == "dataframe":
        import pandas as pd

        if info.get("pandas_orient", "split") == "split":
            return pd.DataFrame(stored["data"], columns=stored["columns"])
        return pd.DataFrame(stored)
    if kind == "ndarray":
        import numpy as np

        if isinstance(stored, dict):
            return {k: np.array(v) for k, v in stored.items()}
        return np.array(stored)
    return stored
