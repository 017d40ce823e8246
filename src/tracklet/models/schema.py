"""Model schemas in MLflow's JSON formats: columns (ColSpec), tensors (TensorSpec), params.

Only what the MLmodel file needs is modelled: scalar column types are a :class:`DataType`;
composite MLflow types (array, object, map, any) are kept as their JSON dict so that a
signature read from an MLflow model is written back unchanged.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from tracklet.exceptions import MlflowException


class DataType(Enum):
    """MLflow's scalar column types (``mlflow.types.DataType``) and their numpy dtypes."""

    boolean = 1
    integer = 2
    long = 3
    float = 4
    double = 5
    string = 6
    binary = 7
    datetime = 8

    def __repr__(self) -> str:
        return self.name

    def to_numpy(self) -> Any:
        import numpy as np

        return np.dtype(_NUMPY_NAMES[self])


_NUMPY_NAMES = {
    DataType.boolean: "bool",
    DataType.integer: "int32",
    DataType.long: "int64",
    DataType.float: "float32",
    DataType.double: "float64",
    DataType.string: "object",
    DataType.binary: "object",
    DataType.datetime: "datetime64[ns]",
}


class ColSpec:
    """A named (or positional) column: ``{"type": "double", "name": "x", "required": true}``."""

    def __init__(
        self, type: DataType | str | dict[str, Any], name: str | None = None, required: bool = True
    ) -> None:
        if isinstance(type, str):
            try:
                type = DataType[type]
            except KeyError:
                raise MlflowException.invalid_parameter_value(
                    f"Unsupported type {type!r}, expected one of {[t.name for t in DataType]}"
                ) from None
        self.type = type
        self.name = name
        self.required = required

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = (
            {"type": self.type.name} if isinstance(self.type, DataType) else dict(self.type)
        )
        if self.name is not None:
            d["name"] = self.name
        d["required"] = self.required
        return d

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> ColSpec:
        name = kwargs.pop("name", None)
        required = kwargs.pop("required", True)
        kind = kwargs["type"]
        composite = kind not in DataType.__members__
        return cls(
            dict(kwargs) if composite else kind, name, True if required is None else required
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ColSpec) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        kind = self.type.name if isinstance(self.type, DataType) else self.type.get("type")
        required = "required" if self.required else "optional"
        return f"{self.name!r}: {kind} ({required})" if self.name else f"{kind} ({required})"


class TensorSpec:
    """A tensor: numpy dtype name and shape, -1 for the variable (batch) dimension."""

    def __init__(self, type: Any, shape: tuple[int, ...] | list[int], name: str | None = None):
        self.type = _dtype_name(type)
        self.shape = tuple(shape)
        self.name = name

    @property
    def required(self) -> bool:
        return True

    def to_dict(self) -> dict[str, Any]:
        spec = {"dtype": self.type, "shape": list(self.shape)}
        d: dict[str, Any] = {"type": "tensor", "tensor-spec": spec}
        if self.name is not None:
            d = {"name": self.name, **d}
        return d

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> TensorSpec:
        spec = kwargs["tensor-spec"]
        return cls(spec["dtype"], tuple(spec["shape"]), kwargs.get("name"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorSpec) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        tensor = f"Tensor({self.type!r}, {self.shape!r})"
        return f"{self.name!r}: {tensor}" if self.name else tensor


def _dtype_name(dtype: Any) -> str:
    if isinstance(dtype, str):
        return dtype
    name = str(getattr(dtype, "name", dtype))
    # Flexible types carry no size in a schema (MLflow's clean_tensor_type).
    if name.startswith("str"):
        return "str"
    if name.startswith("bytes"):
        return "bytes"
    return name


class Schema:
    """A list of ColSpec or of TensorSpec (not both), serialised as a JSON list."""

    def __init__(self, inputs: list[ColSpec | TensorSpec]) -> None:
        if not inputs:
            raise MlflowException.invalid_parameter_value(
                "Creating Schema with empty inputs is not allowed."
            )
        if len({type(i) for i in inputs}) > 1:
            raise MlflowException.invalid_parameter_value(
                "Creating Schema with a combination of ColSpec and TensorSpec is not supported."
            )
        self.inputs = list(inputs)

    def __len__(self) -> int:
        return len(self.inputs)

    def is_tensor_spec(self) -> bool:
        return isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        return self.inputs[0].name is not None

    def input_names(self) -> list[str | int]:
        return [x.name if x.name is not None else i for i, x in enumerate(self.inputs)]

    def to_dict(self) -> list[dict[str, Any]]:
        return [x.to_dict() for x in self.inputs]

    def to_json(self) -> str:
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

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return repr(self.inputs)


class ParamSpec:
    """An inference parameter: ``{"name", "type", "default", "shape"}``."""

    def __init__(
        self,
        name: str,
        dtype: DataType | str | dict[str, Any],
        default: Any,
        shape: tuple[int, ...] | None = None,
    ) -> None:
        self.name = name
        self.dtype = DataType[dtype] if isinstance(dtype, str) else dtype
        self.default = default
        self.shape = tuple(shape) if shape is not None else None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "default": self.default,
            "shape": list(self.shape) if self.shape is not None else None,
        }
        if isinstance(self.dtype, DataType):
            d["type"] = self.dtype.name
        else:
            d.update(self.dtype)
        return d

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> ParamSpec:
        kind = kwargs.get("type") or kwargs.get("dtype")
        dtype: DataType | dict[str, Any]
        if kind in DataType.__members__:
            dtype = DataType[str(kind)]
        else:
            dtype = {k: v for k, v in kwargs.items() if k not in ("name", "default", "shape")}
        shape = kwargs.get("shape")
        return cls(str(kwargs["name"]), dtype, kwargs["default"], tuple(shape) if shape else None)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSpec) and self.to_dict() == other.to_dict()


class ParamSchema:
    """The inference parameters a model accepts."""

    def __init__(self, params: list[ParamSpec]) -> None:
        self.params = list(params)

    def to_dict(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, json_str: str) -> ParamSchema:
        return cls([ParamSpec.from_json_dict(**x) for x in json.loads(json_str)])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSchema) and self.to_dict() == other.to_dict()
