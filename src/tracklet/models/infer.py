"""Schemas inferred from data, with MLflow's rules (``mlflow.types.utils._infer_schema``).

DataFrames and Series become columns (ColSpec); numpy arrays and dicts of arrays become tensors
(TensorSpec) whose first dimension is variable (-1); lists and scalars become columns.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from tracklet.exceptions import MlflowException
from tracklet.models.schema import ColSpec, DataType, ParamSchema, ParamSpec, Schema, TensorSpec


def numpy_datatype(dtype: Any) -> DataType:
    """The DataType of a numpy (or pandas extension) dtype."""
    kind, size = dtype.kind, dtype.itemsize
    if kind == "b":
        return DataType.boolean
    if kind in "iu":
        if size < 4 or (kind == "i" and size == 4):
            return DataType.integer
        if size < 8 or (kind == "i" and size == 8):
            return DataType.long
    elif kind == "f":
        if size <= 4:
            return DataType.float
        if size <= 8:
            return DataType.double
    elif kind == "U":
        return DataType.string
    elif kind == "S":
        return DataType.binary
    elif kind == "M":
        return DataType.datetime
    raise MlflowException(f"Unsupported numpy data type '{dtype}', kind '{kind}'")


def _scalar_datatype(value: Any) -> DataType:
    if isinstance(value, bool):
        return DataType.boolean
    if isinstance(value, int):
        return DataType.long
    if isinstance(value, float):
        return DataType.double
    if isinstance(value, str):
        return DataType.string
    if isinstance(value, bytes | bytearray):
        return DataType.binary
    if isinstance(value, dt.date):
        return DataType.datetime
    dtype = getattr(value, "dtype", None)  # numpy scalars
    if dtype is not None:
        return numpy_datatype(dtype)
    raise MlflowException.invalid_parameter_value(
        f"Failed to infer a schema type for {value!r} of type {type(value).__name__}"
    )


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        import pandas as pd

        return value is pd.NA or value is pd.NaT
    except ImportError:
        return False


def _values_datatype(values: list[Any]) -> DataType:
    present = [v for v in values if not _is_missing(v)]
    if not present:
        raise MlflowException.invalid_parameter_value("Cannot infer a type from missing values")
    types = {_scalar_datatype(v) for v in present}
    if types == {DataType.long, DataType.double}:
        return DataType.double
    if len(types) != 1:
        raise MlflowException.invalid_parameter_value(
            f"Mixed value types: {sorted(t.name for t in types)}"
        )
    return types.pop()


def _series_colspec(col: Any, name: Any) -> ColSpec:
    if col.dtype.kind == "O":
        col = col.infer_objects()
    values = col.to_list()
    required = not any(_is_missing(v) for v in values)
    kind = _values_datatype(values) if col.dtype.kind == "O" else numpy_datatype(col.dtype)
    return ColSpec(kind, None if name is None else str(name), required)


def _tensor_spec(array: Any, name: str | None = None) -> TensorSpec:
    shape = list(array.shape)
    if shape:
        shape[0] = -1
    return TensorSpec(array.dtype, tuple(shape), name)


def infer_schema(data: Any) -> Schema:
    """The schema of ``data``: a DataFrame, Series, ndarray, dict of ndarrays, dict, list of
    dicts, list or scalar."""
    import numpy as np

    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is needed for columns only
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        return Schema([_series_colspec(data[c], c) for c in data.columns])
    if pd is not None and isinstance(data, pd.Series):
        return Schema([_series_colspec(data, data.name)])
    if isinstance(data, np.ndarray):
        return Schema([_tensor_spec(data)])
    if isinstance(data, dict):
        if data and all(isinstance(v, np.ndarray) for v in data.values()):
            return Schema([_tensor_spec(v, str(k)) for k, v in data.items()])
        return Schema(
            [
                ColSpec(
                    _values_datatype(v if isinstance(v, list) else [v]),
                    str(k),
                    not _is_missing(v),
                )
                for k, v in data.items()
            ]
        )
    if isinstance(data, list):
        if not data:
            return Schema([ColSpec(DataType.string)])
        if all(isinstance(v, dict) for v in data):
            names = list(dict.fromkeys(k for row in data for k in row))
            return Schema(
                [
                    ColSpec(
                        _values_datatype([row.get(n) for row in data]),
                        str(n),
                        all(row.get(n) is not None for row in data),
                    )
                    for n in names
                ]
            )
        return Schema([ColSpec(_values_datatype(data))])
    return Schema([ColSpec(_scalar_datatype(data))])


def infer_param_schema(params: dict[str, Any]) -> ParamSchema:
    """The schema of inference params given as an example (scalars and 1-d lists)."""
    specs = []
    for name, value in params.items():
        if isinstance(value, list):
            specs.append(ParamSpec(name, _values_datatype(value), value, (-1,)))
        else:
            specs.append(ParamSpec(name, _scalar_datatype(value), value, None))
    return ParamSchema(specs)
