"""The column types of MLflow's schemas (``mlflow.types.schema``), as dataset schemas need them.

Each type serializes to MLflow's JSON (``{"type": "long"}``, ``{"type": "array", "items": ...}``)
and merges with another type by MLflow's rules, which decide the one element type of a list.
"""

from __future__ import annotations

import enum
from typing import Any, Union

from tracklet.exceptions import MlflowException


class DataType(enum.Enum):
    """MLflow's scalar column types; the JSON uses the member name."""

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


class AnyType:
    """A value of undetermined type (None, NaN, an empty list or dict)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyType)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Any"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "any"}


class Array:
    """A list whose elements all have type ``dtype``."""

    def __init__(self, dtype: ColType) -> None:
        self.dtype = dtype

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Array) and self.dtype == other.dtype

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Array({self.dtype!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "array", "items": type_to_dict(self.dtype)}


class Property:
    """A named field of an ``Object``."""

    def __init__(self, name: str, dtype: ColType, required: bool = True) -> None:
        if not isinstance(name, str):
            raise MlflowException.invalid_parameter_value(
                f"Expected name to be a string, got type {type(name).__name__}"
            )
        self.name = name
        self.dtype = dtype
        self.required = required

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Property)
            and self.name == other.name
            and self.dtype == other.dtype
            and self.required == other.required
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{self.name}: {self.dtype!r} ({'required' if self.required else 'optional'})"

    def to_dict(self) -> dict[str, Any]:
        return {self.name: {**type_to_dict(self.dtype), "required": self.required}}


class Object:
    """A dict with named, typed properties (kept sorted by name, as MLflow does)."""

    def __init__(self, properties: list[Property]) -> None:
        if not properties:
            raise MlflowException.invalid_parameter_value(
                "Creating Object with empty properties is not allowed."
            )
        self.properties = sorted(properties, key=lambda p: p.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Object) and self.properties == other.properties

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "{" + ", ".join(map(repr, self.properties)) + "}"

    def to_dict(self) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for prop in self.properties:
            properties.update(prop.to_dict())
        return {"type": "object", "properties": properties}


ColType = Union[DataType, Array, Object, AnyType]  # noqa: UP007 (a runtime alias)


def type_to_dict(dtype: ColType) -> dict[str, Any]:
    """A column type as MLflow's JSON dictionary."""
    if isinstance(dtype, DataType):
        return {"type": dtype.name}
    return dtype.to_dict()


def merge(this: ColType, other: ColType) -> ColType:
    """MLflow's ``this._merge(other)``: one type covering both, or MlflowException."""
    if isinstance(this, AnyType):
        if isinstance(other, (AnyType, DataType)):
            return other
        return merge(other, this)  # merging with Any makes the other type optional
    if isinstance(this, Array):
        return _merge_array(this, other)
    if isinstance(this, Object):
        return _merge_object(this, other)
    raise MlflowException(f"Can't merge {this!r} with {other!r}")


def _merge_array(this: Array, other: ColType) -> Array:
    if isinstance(other, AnyType) or this == other:
        return this
    if not isinstance(other, Array):
        raise MlflowException(f"Can't merge array with non-array type: {type(other).__name__}")
    if isinstance(this.dtype, DataType):
        if this.dtype == other.dtype or isinstance(other.dtype, AnyType):
            return Array(this.dtype)
        raise MlflowException(f"Array types are incompatible for {this} and {other}")
    return Array(merge(this.dtype, other.dtype))


def _merge_object(this: Object, other: ColType) -> Object:
    if isinstance(other, AnyType):
        return Object([Property(p.name, p.dtype, required=False) for p in this.properties])
    if not isinstance(other, Object):
        raise MlflowException(f"Can't merge object with non-object type: {type(other).__name__}")
    if this == other:
        return this
    mine = {p.name: p for p in this.properties}
    theirs = {p.name: p for p in other.properties}
    merged = [Property(k, mine[k].dtype, required=False) for k in mine.keys() - theirs.keys()]
    merged += [_merge_property(mine[k], theirs[k]) for k in mine.keys() & theirs.keys()]
    merged += [Property(k, theirs[k].dtype, required=False) for k in theirs.keys() - mine.keys()]
    return Object(merged)


def _merge_property(this: Property, other: Property) -> Property:
    required = this.required and other.required
    if isinstance(this.dtype, DataType):
        if this.dtype == other.dtype or isinstance(other.dtype, AnyType):
            return Property(this.name, this.dtype, required=required)
        raise MlflowException(f"Properties are incompatible for {this.dtype} and {other.dtype}")
    return Property(this.name, merge(this.dtype, other.dtype), required=required)
