"""The column types of MLflow's schemas (``mlflow.types.schema``): the scalar ``DataType`` and
the composite ``Array``, ``Object`` (of ``Property``), ``Map``, ``AnyType`` and ``SparkMLVector``.

Each type serializes to MLflow's JSON (``{"type": "long"}``, ``{"type": "array", "items": ...}``),
is read back from it (:func:`type_from_json`), and merges with another type by MLflow's rules
(``_merge``), which decide the one element type of an inferred list.
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar, TypeVar

from tracklet.exceptions import MlflowException

ARRAY_TYPE = "array"
OBJECT_TYPE = "object"
MAP_TYPE = "map"
ANY_TYPE = "any"
SPARKML_VECTOR_TYPE = "sparkml_vector"

# numpy dtype names of the scalar types (MLflow's ``DataType.to_numpy``), kept as names so that
# this module loads without numpy.
_NUMPY_NAMES = {
    "boolean": "bool",
    "integer": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
    "string": "str",
    "binary": "bytes",
    "datetime": "datetime64[ns]",
}


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

    def to_numpy(self) -> Any:
        """The equivalent numpy dtype."""
        import numpy as np

        return np.dtype(_NUMPY_NAMES[self.name])


def _as_type(dtype: ColType | str) -> ColType:
    """``dtype``, a DataType given by name, or MlflowException for anything else."""
    if isinstance(dtype, (DataType, Array, Map, Object, AnyType)):
        return dtype
    if isinstance(dtype, str):
        try:
            return DataType[dtype]
        except KeyError:
            raise MlflowException(
                f"Unsupported type '{dtype}', expected instance of DataType, Array, Object, Map or "
                f"one of {[t.name for t in DataType]}"
            ) from None
    raise MlflowException(
        "Expected mlflow.types.schema.Datatype, mlflow.types.schema.Array, "
        "mlflow.types.schema.Object, mlflow.types.schema.Map, mlflow.types.schema.AnyType "
        f"or str for the 'dtype' argument, but got {dtype}"
    )


def type_to_dict(dtype: ColType) -> dict[str, Any]:
    """A column type as MLflow's JSON dictionary."""
    if isinstance(dtype, DataType):
        return {"type": dtype.name}
    return dtype.to_dict()


def type_from_json(d: dict[str, Any]) -> ColType:
    """The type a JSON dictionary with a ``"type"`` key describes (extra keys are ignored)."""
    kind = d["type"]
    if kind == ARRAY_TYPE:
        return Array.from_json_dict(**d)
    if kind == OBJECT_TYPE:
        return Object.from_json_dict(**d)
    if kind == MAP_TYPE:
        return Map.from_json_dict(**d)
    if kind == SPARKML_VECTOR_TYPE:
        return SparkMLVector()
    if kind == ANY_TYPE:
        return AnyType()
    return _as_type(kind)


def _checked(kwargs: dict[str, Any], kind: str, key: str) -> Any:
    """The value under ``key`` of a composite type's JSON, whose keys and type are checked."""
    if not {key, "type"} <= kwargs.keys():
        raise MlflowException(
            f"Missing keys in {kind.capitalize()} JSON. Expected to find keys `{key}` and `type`"
        )
    if kwargs["type"] != kind:
        raise MlflowException(f"Type mismatch, {kind.capitalize()} expects `{kind}` as the type")
    return kwargs[key]


def _nested_type(kwargs: dict[str, Any], kind: str, key: str) -> ColType:
    """The element (or value) type of an array's (or map's) JSON."""
    inner = _checked(kwargs, kind, key)
    if not isinstance(inner, dict) or "type" not in inner:
        raise MlflowException(f"Expected {key} to be a dictionary with a `type` key")
    return type_from_json(inner)


def _merge_element(this: ColType, other: ColType, what: str) -> ColType:
    """MLflow's rule for the element types of two arrays (maps, properties) being merged: a
    scalar type takes only itself or Any; a composite type merges by its own rule."""
    if isinstance(this, DataType):
        if this == other or isinstance(other, AnyType):
            return this
        raise MlflowException(f"{what} are incompatible for {this} and {other}")
    return this._merge(other)


class AnyType:
    """A value of undetermined type (None, NaN, an empty list or dict)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyType)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Any"

    def to_dict(self) -> dict[str, Any]:
        return {"type": ANY_TYPE}

    def _merge(self, other: ColType) -> ColType:
        if isinstance(other, (AnyType, DataType)):
            return other
        return other._merge(self)  # merging with Any makes the other type optional


_C = TypeVar("_C", bound="_OneTypeContainer")


class _OneTypeContainer:
    """A JSON list or map whose values all have one type: MLflow's Array (``"items"``) and Map
    (``"values"``) differ only in these names."""

    _KIND: ClassVar[str]
    _KEY: ClassVar[str]

    def __init__(self, element: ColType | str) -> None:
        self._element = _as_type(element)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and self._element == other._element

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self._KIND, self._KEY: type_to_dict(self._element)}

    @classmethod
    def from_json_dict(cls: type[_C], **kwargs: Any) -> _C:
        return cls(_nested_type(kwargs, cls._KIND, cls._KEY))

    def _merge(self: _C, other: ColType) -> _C:
        if isinstance(other, AnyType) or self == other:
            return self
        if not isinstance(other, type(self)):
            raise MlflowException(
                f"Can't merge {self._KIND} with non-{self._KIND} type: {type(other).__name__}"
            )
        what = f"{self._KIND.capitalize()} types"
        return type(self)(_merge_element(self._element, other._element, what))


class Array(_OneTypeContainer):
    """A list whose elements all have type ``dtype``."""

    _KIND = ARRAY_TYPE
    _KEY = "items"

    @property
    def dtype(self) -> ColType:
        return self._element

    def __repr__(self) -> str:
        return f"Array({self.dtype!r})"


class SparkMLVector(Array):
    """Spark ML's vector type: an array of doubles with its own JSON type name."""

    def __init__(self) -> None:
        super().__init__(DataType.double)

    def __repr__(self) -> str:
        return "SparkML vector"

    def to_dict(self) -> dict[str, Any]:
        return {"type": SPARKML_VECTOR_TYPE}

    def _merge(self, other: ColType) -> SparkMLVector:
        if isinstance(other, SparkMLVector):
            return self
        raise MlflowException("SparkML vector type can't be merged with another Array type.")


class Map(_OneTypeContainer):
    """A dict with string keys and values of type ``value_type``."""

    _KIND = MAP_TYPE
    _KEY = "values"

    @property
    def value_type(self) -> ColType:
        return self._element

    def __repr__(self) -> str:
        return f"Map(str -> {self.value_type})"


class Property:
    """A named field of an ``Object``."""

    def __init__(self, name: str, dtype: ColType | str, required: bool = True) -> None:
        if not isinstance(name, str):
            raise MlflowException.invalid_parameter_value(
                f"Expected name to be a string, got type {type(name).__name__}"
            )
        self.name = name
        self.dtype = _as_type(dtype)
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

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> Property:
        """``{"<name>": {"type": ..., "required": ...}}``."""
        if len(kwargs) != 1:
            raise MlflowException(
                f"Expected Property JSON to contain a single key as name, got {len(kwargs)} keys."
            )
        ((name, d),) = kwargs.items()
        if "type" not in d:
            raise MlflowException(f"Missing keys in Property `{name}`. Expected to find key `type`")
        return cls(name, type_from_json(d), d.get("required", True))

    def _merge(self, other: Property) -> Property:
        dtype = _merge_element(self.dtype, other.dtype, "Properties")
        return Property(self.name, dtype, required=self.required and other.required)


class Object:
    """A dict with named, typed properties (kept sorted by name, as MLflow does)."""

    def __init__(self, properties: list[Property]) -> None:
        if not properties:
            raise MlflowException.invalid_parameter_value(
                "Creating Object with empty properties is not allowed."
            )
        names = [p.name for p in properties]
        if duplicates := sorted({n for n in names if names.count(n) > 1}):
            raise MlflowException.invalid_parameter_value(
                f"Found duplicated property names: `{', '.join(duplicates)}`"
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
        return {"type": OBJECT_TYPE, "properties": properties}

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> Object:
        props = _checked(kwargs, OBJECT_TYPE, "properties")
        if not isinstance(props, dict) or not all(isinstance(p, dict) for p in props.values()):
            raise MlflowException("Expected properties to be a dictionary of Property JSON")
        return cls([Property.from_json_dict(**{name: p}) for name, p in props.items()])

    def _merge(self, other: ColType) -> Object:
        if isinstance(other, AnyType):
            return Object([Property(p.name, p.dtype, required=False) for p in self.properties])
        if not isinstance(other, Object):
            raise MlflowException(
                f"Can't merge object with non-object type: {type(other).__name__}"
            )
        if self == other:
            return self
        mine = {p.name: p for p in self.properties}
        theirs = {p.name: p for p in other.properties}
        merged = [Property(k, mine[k].dtype, required=False) for k in mine.keys() - theirs.keys()]
        merged += [mine[k]._merge(theirs[k]) for k in mine.keys() & theirs.keys()]
        merged += [
            Property(k, theirs[k].dtype, required=False) for k in theirs.keys() - mine.keys()
        ]
        return Object(merged)


ColType = DataType | Array | Object | Map | AnyType
