"""Schemas inferred from data with MLflow's rules (``mlflow.types.utils._infer_schema``), for
model signatures and dataset schemas alike.

DataFrames, Series, lists, dicts and scalars become columns (ColSpec); numpy arrays and dicts of
arrays become tensors (TensorSpec) whose first dimension is variable (-1).

pandas and numpy are imported inside the functions: ``tracklet.types`` loads without them.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections import defaultdict
from typing import Any

from tracklet.exceptions import MlflowException
from tracklet.types.datatypes import AnyType, Array, ColType, DataType, Object, Property
from tracklet.types.schema import (
    ColSpec,
    ParamSchema,
    ParamSpec,
    Schema,
    TensorSpec,
    clean_tensor_type,
)

MULTIPLE_TYPES_ERROR_MSG = (
    "Expected all values in the list to be of the same type. To specify a model signature "
    "with a list containing elements of multiple types, define the signature manually "
    "using the Array(AnyType()) type from mlflow.models.schema."
)

__all__ = [
    "clean_tensor_type",
    "infer_datatype",
    "infer_numpy_dtype",
    "infer_pandas_column",
    "infer_param_schema",
    "infer_required",
    "infer_schema",
]


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


def _is_datetime(value: Any) -> bool:
    import numpy as np

    return type(value) in (dt.date, dt.datetime, np.datetime64)


@functools.cache
def _pandas() -> Any:
    """pandas, or None: tracklet does not require it, and arrays and lists are typed without."""
    try:
        import pandas
    except ImportError:  # pragma: no cover - pandas is installed wherever tests run
        return None
    return pandas


def _is_none_or_nan(x: Any) -> bool:
    if isinstance(x, float):
        return math.isnan(x)
    pd = _pandas()
    return x is None or (pd is not None and (x is pd.NA or x is pd.NaT))


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
                raise MlflowException.invalid_parameter_value(MULTIPLE_TYPES_ERROR_MSG)
        else:
            try:
                merged = result.dtype._merge(dtype)
            except MlflowException as e:
                raise MlflowException.invalid_parameter_value(MULTIPLE_TYPES_ERROR_MSG) from e
            if merged is not result.dtype:  # the usual case, equal items, builds nothing
                result = Array(merged)
    return result


def _infer_colspec_type(data: Any) -> ColType:
    dtype = infer_datatype(data)
    if dtype is None:
        raise MlflowException(
            f"Numpy array must include at least one non-empty item. Invalid input `{data}`."
        )
    return dtype


def _element_type(data: list[Any]) -> ColType:
    """The one element type of a list (MLflow's ``_infer_colspec_type(data).dtype``)."""
    array = _infer_colspec_type(data)
    if not isinstance(array, Array):  # an empty list has no element type
        raise MlflowException(f"No element type for {data!r}")
    return array.dtype


def infer_numpy_dtype(dtype: Any) -> DataType:
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


def infer_pandas_column(col: Any) -> ColType:
    """The type of a Series' values (a Series of lists is typed by its elements)."""
    import pandas as pd

    if not isinstance(col, pd.Series):  # e.g. a duplicated column name selects a DataFrame
        raise TypeError(f"Expected pandas.Series, got '{type(col)}'.")
    if len(col.values.shape) > 1:
        raise MlflowException(f"Expected 1d array, got array with shape {col.shape}")
    if isinstance(col.dtype, pd.StringDtype):
        # Values are str or NA: what the generic path below concludes, without the loop.
        return AnyType() if len(col) and bool(col.isna().all()) else DataType.string
    if col.dtype.kind == "O":
        col = col.infer_objects()
    if col.dtype.kind != "O":
        return infer_numpy_dtype(col.dtype)
    try:
        return _element_type(col.to_list())
    except Exception as e:
        if pd.api.types.is_string_dtype(col):
            return DataType.string  # MLflow's fallback for object columns that look textual
        raise MlflowException(f"Failed to infer schema for pandas.Series {col}. Error: {e}") from e


def infer_required(col: Any) -> bool:
    """Whether a value, list or Series has no missing value (None, NaN, NA, NaT)."""
    import numpy as np

    pd = _pandas()
    if pd is not None and isinstance(col, pd.Series):
        dtype = col.dtype
        # Vectorized forms of the loop below, for dtypes whose only missing values are NaN/NaT/NA.
        if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
            return dtype.kind in "biu" or not bool(col.isna().any())
        if isinstance(dtype, pd.StringDtype):
            return not bool(col.isna().any())
    if isinstance(col, list) or (pd is not None and isinstance(col, pd.Series)):
        return not any(_is_none_or_nan(x) for x in col)
    return not _is_none_or_nan(col)


def _tensor_spec(array: Any, name: Any = None) -> TensorSpec:
    import numpy as np

    if not isinstance(array, np.ndarray):
        raise TypeError(f"Expected numpy.ndarray, got '{type(array)}'.")
    if array.ndim == 0:
        raise MlflowException(
            "The specified variable_dimension 0 is out of bounds with respect to the number of "
            "dimensions 0 in the input dataset"
        )
    return TensorSpec(clean_tensor_type(array.dtype), (-1, *array.shape[1:]), name=name)


def _list_of_dicts_schema(rows: list[dict[str, Any]]) -> Schema:
    columns: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        for key, value in row.items():
            columns[key].append(value)
    return Schema(
        [
            ColSpec(
                _element_type(values),
                name=name,
                # A column missing from a row, or None there, is optional.
                required=all(row.get(name) is not None for row in rows),
            )
            for name, values in columns.items()
        ]
    )


def _dict_schema(data: dict[Any, Any]) -> Schema:
    import numpy as np

    if all(isinstance(value, np.ndarray) for value in data.values()):
        return Schema([_tensor_spec(array, name) for name, array in data.items()])
    if any(not isinstance(key, str) for key in data):
        raise MlflowException("The dictionary keys are not all strings.")
    return Schema(
        [
            ColSpec(_infer_colspec_type(value), name=name, required=infer_required(value))
            for name, value in data.items()
        ]
    )


def infer_schema(data: Any) -> Schema:
    """The schema of ``data``: a DataFrame, Series, ndarray, dict of ndarrays, dict, list of
    dicts, list or scalar; MlflowException (or TypeError) for what MLflow cannot type."""
    import numpy as np

    pd = _pandas()
    if isinstance(data, list) and not data:
        return Schema([ColSpec(DataType.string)])  # MLflow's rule for an empty list
    if isinstance(data, list) and all(isinstance(value, dict) for value in data):
        return _list_of_dicts_schema(data)
    if isinstance(data, dict):
        return _dict_schema(data)
    if pd is not None and isinstance(data, pd.Series):
        return Schema([ColSpec(infer_pandas_column(data), data.name, infer_required(data))])
    if pd is not None and isinstance(data, pd.DataFrame):
        return Schema(
            [
                ColSpec(infer_pandas_column(data[name]), name, infer_required(data[name]))
                for name in data.columns
            ]
        )
    if isinstance(data, np.ndarray):
        return Schema([_tensor_spec(data)])
    if isinstance(data, list):
        return Schema([ColSpec(_element_type(data))])
    try:
        return Schema([ColSpec(_infer_colspec_type(data))])
    except MlflowException as e:
        raise MlflowException.invalid_parameter_value(
            f"Failed to infer schema: got '{data}'. Error: {e}"
        ) from e


def _array_depth(value: Any) -> int:
    import numpy as np

    if isinstance(value, np.ndarray):
        return int(value.ndim)
    if isinstance(value, list):
        return max(_array_depth(item) for item in value) + 1 if value else 1
    return 0


def _param_type_and_shape(value: Any) -> tuple[DataType | Object, tuple[int, ...] | None]:
    import numpy as np

    if isinstance(value, (list, np.ndarray)):
        if (ndim := _array_depth(value)) != 1:
            raise MlflowException.invalid_parameter_value(
                f"Expected parameters to be 1D array or scalar, got {ndim}D array"
            )
        if all(_is_datetime(v) for v in value):
            return DataType.datetime, (-1,)
        return infer_numpy_dtype(np.array(value).dtype), (-1,)
    if _is_datetime(value):
        return DataType.datetime, None
    if np.isscalar(value):
        return infer_numpy_dtype(np.array(value).dtype), None
    if isinstance(value, dict):
        # Typed as a column of a one-column dict, so that a dict is an Object (or AnyType if empty).
        object_type = _dict_schema({"value": value}).inputs[0].type
        if not isinstance(object_type, Object):
            raise MlflowException.invalid_parameter_value(f"Cannot infer a type for {value!r}")
        return object_type, None
    raise MlflowException.invalid_parameter_value(
        f"Expected parameters to be 1D array or scalar, got {type(value).__name__}"
    )


def infer_param_schema(params: dict[str, Any]) -> ParamSchema:
    """The schema of inference params given as an example (scalars, 1-d lists and dicts)."""
    import copy

    if not isinstance(params, dict):
        raise MlflowException.invalid_parameter_value(
            f"Expected parameters to be dict, got {type(params).__name__}"
        )
    specs, invalid = [], []
    for name, value in params.items():
        try:
            dtype, shape = _param_type_and_shape(value)
            specs.append(ParamSpec(name, dtype, copy.deepcopy(value), shape))
        except Exception as e:
            invalid.append((name, value, e))
    if invalid:
        raise MlflowException.invalid_parameter_value(
            f"Failed to infer schema for parameters: {invalid}"
        )
    return ParamSchema(specs)
