"""Schemas as MLflow defines them (``mlflow.types.schema``): a ``Schema`` of columns (``ColSpec``)
or of tensors (``TensorSpec``), and the ``ParamSchema`` of a model's inference params.

The JSON is MLflow's, so a schema MLflow wrote is read and written back unchanged. numpy is
needed only to build a TensorSpec from a dtype or to read its ``type``: a schema read from JSON
keeps dtype names.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from tracklet.exceptions import MlflowException
from tracklet.types.datatypes import (
    OBJECT_TYPE,
    AnyType,
    Array,
    ColType,
    DataType,
    Map,
    Object,
    Property,
    SparkMLVector,
    type_from_json,
    type_to_dict,
)

__all__ = [
    "AnyType",
    "Array",
    "ColSpec",
    "DataType",
    "Map",
    "Object",
    "ParamSchema",
    "ParamSpec",
    "Property",
    "Schema",
    "SparkMLVector",
    "TensorSpec",
]


class ColSpec:
    """One column: its type, its name (None when unnamed) and whether it may hold nulls."""

    def __init__(self, type: ColType | str, name: Any = None, required: bool = True) -> None:
        if isinstance(type, str):
            try:
                type = DataType[type]
            except KeyError:
                raise MlflowException.invalid_parameter_value(
                    f"Unsupported type {type!r}, expected one of {[t.name for t in DataType]}"
                ) from None
        self.type: ColType = type
        self.name = name
        self.required = required

    def to_dict(self) -> dict[str, Any]:
        d = type_to_dict(self.type)
        if self.name is not None:
            d["name"] = self.name
        d["required"] = self.required
        return d

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> ColSpec:
        if "type" not in kwargs:
            raise MlflowException("Missing keys in ColSpec JSON. Expected to find key `type`")
        required = kwargs.get("required")
        return cls(
            type_from_json(kwargs), kwargs.get("name"), True if required is None else required
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ColSpec)
            and self.name == other.name
            and self.type == other.type
            and self.required == other.required
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        required = "required" if self.required else "optional"
        if self.name is None:
            return f"{self.type!r} ({required})"
        return f"{self.name!r}: {self.type!r} ({required})"


def clean_tensor_type(dtype: Any) -> Any:
    """``dtype`` as a numpy dtype, flexible types without their size (``"<U5"`` -> ``str``)."""
    import numpy as np

    dtype = np.dtype(dtype)
    if dtype.char == "U":
        return np.dtype("str")
    if dtype.char == "S":
        return np.dtype("bytes")
    return dtype


class TensorSpec:
    """One tensor: its numpy dtype, its shape (-1 for a variable axis) and its name."""

    def __init__(self, type: Any, shape: tuple[int, ...] | list[int], name: Any = None) -> None:
        # A dtype name (as read from JSON) stays a name until ``type`` is read.
        self._type = type if isinstance(type, str) else clean_tensor_type(type)
        self.shape = tuple(shape)
        self.name = name

    @property
    def type(self) -> Any:
        """The numpy dtype."""
        if isinstance(self._type, str):
            import numpy as np

            self._type = np.dtype(self._type)
        return self._type

    @property
    def dtype_name(self) -> str:
        """The dtype's name, as the JSON has it (``"float32"``, ``"str"``)."""
        return self._type if isinstance(self._type, str) else str(self._type.name)

    @property
    def required(self) -> bool:
        return True

    def to_dict(self) -> dict[str, Any]:
        spec = {"dtype": self.dtype_name, "shape": self.shape}
        if self.name is None:
            return {"type": "tensor", "tensor-spec": spec}
        return {"name": self.name, "type": "tensor", "tensor-spec": spec}

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> TensorSpec:
        if not {"tensor-spec", "type"} <= kwargs.keys():
            raise MlflowException(
                "Missing keys in TensorSpec JSON. Expected to find keys `tensor-spec` and `type`"
            )
        spec = kwargs["tensor-spec"]
        return cls(str(spec["dtype"]), tuple(spec["shape"]), kwargs.get("name"))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TensorSpec)
            and self.name == other.name
            and self.dtype_name == other.dtype_name
            and self.shape == other.shape
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        tensor = f"Tensor({self.dtype_name!r}, {self.shape!r})"
        return tensor if self.name is None else f"{self.name!r}: {tensor}"


class Schema:
    """A list of ColSpecs or of TensorSpecs, with MLflow's validity rules."""

    def __init__(self, inputs: list[ColSpec | TensorSpec]) -> None:
        if not inputs:
            raise MlflowException.invalid_parameter_value(
                "Creating Schema with empty inputs is not allowed."
            )
        named = [x.name is not None for x in inputs]
        if any(named) and not all(named):
            raise MlflowException(
                "Creating Schema with a combination of named and unnamed inputs "
                f"is not allowed. Got input names {[x.name for x in inputs]}"
            )
        tensors = [isinstance(x, TensorSpec) for x in inputs]
        if any(tensors) and not all(tensors):
            raise MlflowException(
                "Creating Schema with a combination of ColSpec and TensorSpec is not supported. "
                "Please choose one of ColSpec or TensorSpec"
            )
        if all(tensors) and len(inputs) > 1 and not all(named):
            raise MlflowException(
                "Creating Schema with multiple unnamed TensorSpecs is not supported. "
                "Please provide names for each TensorSpec."
            )
        if not any(named) and not all(x.required for x in inputs):
            raise MlflowException(
                "Creating Schema with unnamed optional inputs is not supported. "
                "Please name all inputs or make all inputs required."
            )
        self.inputs = list(inputs)

    def __len__(self) -> int:
        return len(self.inputs)

    def __iter__(self) -> Iterator[ColSpec | TensorSpec]:
        return iter(self.inputs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.inputs == other.inputs

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.inputs)

    def is_tensor_spec(self) -> bool:
        """Whether the inputs are TensorSpecs."""
        return isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        """Whether the inputs are named."""
        return self.inputs[0].name is not None

    def input_names(self) -> list[Any]:
        """The input names, or their positions when unnamed."""
        return [x.name or i for i, x in enumerate(self.inputs)]

    def required_input_names(self) -> list[Any]:
        """The names (or positions) of the required inputs."""
        return [x.name or i for i, x in enumerate(self.inputs) if x.required]

    def optional_input_names(self) -> list[Any]:
        """The names (or positions) of the optional inputs."""
        return [x.name or i for i, x in enumerate(self.inputs) if not x.required]

    def input_types(self) -> list[Any]:
        """The type of each input: a column type, or a tensor's numpy dtype."""
        return [x.type for x in self.inputs]

    def to_dict(self) -> list[dict[str, Any]]:
        """MLflow's JSON-ready list of input dictionaries."""
        return [x.to_dict() for x in self.inputs]

    def to_json(self) -> str:
        """``json.dumps(self.to_dict())``."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, json_str: str) -> Schema:
        return cls(
            [
                TensorSpec.from_json_dict(**x)
                if x["type"] == "tensor"
                else ColSpec.from_json_dict(**x)
                for x in json.loads(json_str)
            ]
        )


class ParamSpec:
    """An inference parameter: ``{"name", "type", "default", "shape"}``; ``shape`` is None for
    a scalar (or object) and ``(-1,)`` for a list."""

    def __init__(
        self,
        name: str,
        dtype: DataType | Object | str,
        default: Any,
        shape: tuple[int, ...] | list[int] | None = None,
    ) -> None:
        self.name = str(name)
        if isinstance(dtype, str):
            try:
                dtype = DataType[dtype]
            except KeyError:
                raise MlflowException.invalid_parameter_value(
                    f"Unsupported type '{dtype}', expected instance of DataType or one of "
                    f"{[t.name for t in DataType if t.name != 'binary']}"
                ) from None
        if dtype == DataType.binary:
            raise MlflowException.invalid_parameter_value(
                f"Binary type is not supported for parameters, ParamSpec '{self.name}'"
                "has dtype 'binary'"
            )
        self.dtype = dtype
        self.default = default
        self.shape = tuple(shape) if shape is not None else None

    def to_dict(self) -> dict[str, Any]:
        default = self.default
        if self.dtype == DataType.datetime:  # stored as ISO text, as MLflow does
            default = [_iso(v) for v in default] if self.shape == (-1,) else _iso(default)
        return {
            "name": self.name,
            "default": default,
            "shape": self.shape,
            **type_to_dict(self.dtype),
        }

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> ParamSpec:
        if not {"name", "default"} <= kwargs.keys() or not ({"type", "dtype"} & kwargs.keys()):
            raise MlflowException.invalid_parameter_value(
                "Missing keys in ParamSpec JSON. Expected to find keys `name`, `type`(or `dtype`) "
                f"and `default`. Received keys: {kwargs.keys()}"
            )
        kind = kwargs.get("type") or kwargs.get("dtype")
        dtype = Object.from_json_dict(**kwargs) if kind == OBJECT_TYPE else str(kind)
        return cls(str(kwargs["name"]), dtype, kwargs["default"], kwargs.get("shape"))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ParamSpec)
            and self.name == other.name
            and self.dtype == other.dtype
            and self.default == other.default
            and self.shape == other.shape
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shape = f" (shape: {self.shape})" if self.shape is not None else ""
        return f"{self.name!r}: {self.dtype!r} (default: {self.default}){shape}"


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


class ParamSchema:
    """The inference parameters a model accepts."""

    def __init__(self, params: list[ParamSpec]) -> None:
        names = [p.name for p in params]
        if duplicates := [n for i, n in enumerate(names) if n in names[:i]]:
            raise MlflowException.invalid_parameter_value(
                f"Duplicated parameters found in schema: {duplicates}"
            )
        self.params = list(params)

    def __len__(self) -> int:
        return len(self.params)

    def __iter__(self) -> Iterator[ParamSpec]:
        return iter(self.params)

    def to_dict(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, json_str: str) -> ParamSchema:
        return cls([ParamSpec.from_json_dict(**x) for x in json.loads(json_str)])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSchema) and self.params == other.params

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.params)
