"""Input checks before ``PyFuncModel.predict``: the data is shaped and typed to the model's
input schema (columns selected, ordered and safely cast; tensors cast), or refused with a
message naming the problem — a subset of MLflow's ``_enforce_schema``."""

from __future__ import annotations

from typing import Any

from tracklet.exceptions import MlflowException
from tracklet.types import ColSpec, DataType, Schema, TensorSpec


def _fail(message: str) -> MlflowException:
    return MlflowException.invalid_parameter_value(
        f"Failed to enforce model input schema: {message}"
    )


def enforce_schema(data: Any, schema: Schema) -> Any:
    """``data`` conformed to ``schema``."""
    if schema.is_tensor_spec():
        return _enforce_tensors(data, schema)
    return _enforce_columns(data, schema)


def _as_dataframe(data: Any, schema: Schema) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, dict):
        if all(not isinstance(v, list | np.ndarray) for v in data.values()):
            return pd.DataFrame([data])
        return pd.DataFrame(data)
    if isinstance(data, list):
        if data and all(isinstance(v, dict) for v in data):
            return pd.DataFrame(data)
        return (
            pd.DataFrame({schema.input_names()[0]: data})
            if len(schema) == 1
            else pd.DataFrame(data)
        )
    if isinstance(data, np.ndarray):
        frame = pd.DataFrame(data if data.ndim > 1 else data.reshape(-1, 1))
        if schema.has_input_names() and frame.shape[1] == len(schema):
            frame.columns = schema.input_names()
        return frame
    return pd.DataFrame([data])


def _enforce_columns(data: Any, schema: Schema) -> Any:
    frame = _as_dataframe(data, schema)
    specs = [s for s in schema.inputs if isinstance(s, ColSpec)]
    if schema.has_input_names():
        names = [str(s.name) for s in specs]
        missing = [s.name for s in specs if s.required and s.name not in frame.columns]
        if missing:
            raise _fail(
                f"Model is missing inputs {missing}. Note that there were extra inputs: "
                f"{sorted(set(map(str, frame.columns)) - set(names))}"
            )
        present = [n for n in names if n in frame.columns]
        frame = frame[present]
    elif frame.shape[1] != len(specs):
        raise _fail(
            f"Model inference is missing inputs: expected {len(specs)} columns, "
            f"got {frame.shape[1]}"
        )
    else:
        present = list(frame.columns)
    by_name = {str(s.name) if s.name is not None else i: s for i, s in enumerate(specs)}
    out = frame.copy()
    for i, column in enumerate(present):
        spec = by_name[str(column) if schema.has_input_names() else i]
        if isinstance(spec.type, DataType):
            out[column] = _cast_column(out[column], spec.type, column)
    return out


def _cast_column(values: Any, target: DataType, name: Any) -> Any:
    import numpy as np

    kind = values.dtype.kind
    if target in (DataType.string, DataType.binary) or kind == "O":
        return values
    if target == DataType.datetime:
        return values.astype("datetime64[ns]") if kind == "M" else values
    wanted = target.to_numpy()
    if values.dtype == wanted:
        return values
    if target in (DataType.integer, DataType.long) and kind == "f":
        raise _fail(
            f"Incompatible input types for column {name}. Can not safely convert "
            f"{values.dtype} to {wanted}."
        )
    if target == DataType.boolean and kind != "b":
        raise _fail(f"Incompatible input types for column {name}: {values.dtype} to bool.")
    if kind in "biuf" and (
        np.can_cast(values.dtype, wanted) or target in (DataType.float, DataType.double)
    ):
        return values.astype(wanted)
    raise _fail(f"Incompatible input types for column {name}: {values.dtype} to {wanted}.")


def _enforce_tensors(data: Any, schema: Schema) -> Any:
    import numpy as np
    import pandas as pd

    specs = [s for s in schema.inputs if isinstance(s, TensorSpec)]
    if len(specs) == 1 and not isinstance(data, dict):
        array = data.to_numpy() if isinstance(data, pd.DataFrame) else np.asarray(data)
        return _cast_tensor(array, specs[0])
    if isinstance(data, pd.DataFrame):
        data = {c: data[c].to_numpy() for c in data.columns}
    if not isinstance(data, dict):
        raise _fail(f"expected a dict of named tensors {[s.name for s in specs]}")
    return {s.name: _cast_tensor(np.asarray(data[s.name]), s) for s in specs if s.name in data}


def _cast_tensor(array: Any, spec: TensorSpec) -> Any:
    import numpy as np

    wanted = spec.type if spec.type.kind not in "US" else None  # no cast to sized text
    if wanted is not None and array.dtype != wanted:
        if not np.can_cast(array.dtype, wanted, casting="same_kind"):
            raise _fail(f"dtype of input {array.dtype} does not match expected dtype {wanted}")
        array = array.astype(wanted)
    shape = spec.shape
    if len(shape) != array.ndim or any(
        want != -1 and want != got for want, got in zip(shape, array.shape, strict=False)
    ):
        raise _fail(f"Shape of input {array.shape} does not match expected shape {shape}")
    return array
