"""Schema inference for DataFrames and numpy arrays, with MLflow's rules (``_infer_schema``).

pandas and numpy are imported inside the functions: this module is imported with
``tracklet.data``, which ``import tracklet`` must be able to reach without them.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from typing import Any

from tracklet.data._types import AnyType, Array, ColType, DataType, Object, Property, merge
from tracklet.data.schema import ColSpec, Schema, TensorSpec
from tracklet.exceptions import MlflowException

_MULTIPLE_TYPES = "Expected all values in the list to be of the same type."


@functools.cache
def _scalar_types() -> dict[type, DataType]:
    import numpy as np

    # Exact types only, as MLflow looks them up: np.int16 or a bool subclass are not listed.
    return {
        bool: DataType.boolean,
        np.bool_: DataType.boolean,
        int: DataType.long,
        np.int64: DataType.long,
        np.int32: DataType.integer,
        float: DataType.double,
        np.float64: DataType.double,
        np.float32: DataType.float,
        str: DataType.string,
        np.str_: DataType.string,
        object: DataType.string,
        bytes: DataType.binary,
        np.bytes_: DataType.binary,
        bytearray: DataType.binary,
        dt.date: DataType.datetime,
        dt.datetime: DataType.datetime,
        np.datetime64: DataType.datetime,
    }


def _is_none_or_nan(x: Any) -> bool:
    import pandas as pd

    if isinstance(x, float):
        return math.isnan(x)
    return x is None or x is pd.NA or x is pd.NaT


def infer_datatype(data: Any) -> ColType | None:
    """The type of a value: dict -> Object, list/ndarray -> Array, else a DataType.

    None for an empty (or all-empty) numpy array; AnyType for None, NaN, ``[]`` and ``{}``.
    """
    import numpy as np

    if _is_none_or_nan(data) or (isinstance(data, (list, dict)) and not data):
        return AnyType()
    if isinstance(data, dict):
        properties = []
        for key, value in data.items():
            dtype = infer_datatype(value)
            if dtype is None:
                raise MlflowException("Dictionary value must not be an empty numpy array.")
            properties.append(Property(key, dtype, required=not isinstance(dtype, AnyType)))
        return Object(properties)
    if isinstance(data, (list, np.ndarray)):
        return _infer_array_datatype(data)
    scalar = _scalar_types().get(type(data))
    if scalar is None:
        raise MlflowException.invalid_parameter_value(
            f"Data {data} is not one of the supported DataType"
        )
    return scalar


def _infer_array_datatype(data: Any) -> Array | None:
    result: Array | None = None
    for item in data:
        dtype = infer_datatype(item)
        if dtype is None:
            continue
        if result is None:
            result = Array(dtype)
        elif isinstance(result.dtype, DataType):
            if not isinstance(dtype, AnyType) and dtype != result.dtype:
                raise MlflowException.invalid_parameter_value(_MULTIPLE_TYPES)
        else:
            try:
                result = Array(merge(result.dtype, dtype))
            except MlflowException as e:
                raise MlflowException.invalid_parameter_value(_MULTIPLE_TYPES) from e
    return result


def _infer_numpy_dtype(dtype: Any) -> DataType:
    """The DataType of a numpy dtype or pandas extension dtype (by kind and item size)."""
    kind, size = dtype.kind, dtype.itemsize
    if kind == "b":
        return DataType.boolean
    if kind in ("i", "u"):
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


def _infer_pandas_column(col: Any) -> ColType:
    import pandas as pd

    if len(col.values.shape) > 1:
        raise MlflowException(f"Expected 1d array, got array with shape {col.shape}")
    if isinstance(col.dtype, pd.StringDtype):
        # Values are str or NA: what the generic path below concludes, without the loop.
        return AnyType() if len(col) and bool(col.isna().all()) else DataType.string
    if col.dtype.kind == "O":
        col = col.infer_objects()
    if col.dtype.kind != "O":
        return _infer_numpy_dtype(col.dtype)
    try:
        array = infer_datatype(col.to_list())
        if not isinstance(array, Array):  # empty column, or no value with a type
            raise MlflowException(f"No element type for column {col.name!r}")
        return array.dtype
    except Exception:
        if pd.api.types.is_string_dtype(col):
            return DataType.string  # MLflow's fallback for object columns that look textual
        raise


def _infer_required(col: Any) -> bool:
    import numpy as np
    import pandas as pd

    dtype = col.dtype
    # Vectorized forms of the loop below, for dtypes whose only missing values are NaN/NaT/NA.
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        return dtype.kind in "biu" or not bool(col.isna().any())
    if isinstance(dtype, pd.StringDtype):
        return not bool(col.isna().any())
    return not any(_is_none_or_nan(x) for x in col)


def infer_pandas_schema(df: Any) -> Schema:
    """MLflow's ColSpec schema of a DataFrame; raises when a column has no MLflow type."""
    import pandas as pd

    specs: list[ColSpec | TensorSpec] = []
    for name in df.columns:
        col = df[name]
        if not isinstance(col, pd.Series):  # a duplicated column name selects a DataFrame
            raise TypeError(f"Expected pandas.Series, got '{type(col)}'.")
        specs.append(ColSpec(_infer_pandas_column(col), name=name, required=_infer_required(col)))
    return Schema(specs)


def _tensor_spec(array: Any, name: Any = None) -> TensorSpec:
    import numpy as np

    if not isinstance(array, np.ndarray):
        raise TypeError(f"Expected numpy.ndarray, got '{type(array)}'.")
    dtype = array.dtype
    # Flexible types lose their size: "<U5" is recorded as "str", "|S3" as "bytes".
    if dtype.char == "U":
        dtype = np.dtype("str")
    elif dtype.char == "S":
        dtype = np.dtype("bytes")
    if array.ndim == 0:
        raise MlflowException("A 0-d array has no variable first dimension")
    return TensorSpec(dtype, (-1, *array.shape[1:]), name=name)


def infer_numpy_schema(data: Any) -> Schema:
    """MLflow's TensorSpec schema of an array or a dict of name -> array."""
    if isinstance(data, dict):
        return Schema([_tensor_spec(array, name) for name, array in data.items()])
    return Schema([_tensor_spec(data)])
