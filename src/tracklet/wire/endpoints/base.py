"""The endpoint types every resource module builds its table from.

An :class:`Endpoint` names an RPC, its HTTP method(s), its proto path and the major version it
is served under (``/api/<major>.0<path>`` and ``/ajax-api/<major>.0<path>``, spec §1.1), and the
request :class:`Field` s it accepts. :func:`required` and :func:`repeated` spell the common field
shapes; ``RUN_ID``, ``EXPERIMENT_ID`` and ``KEY`` are the fields most RPCs share.
"""

from __future__ import annotations

from dataclasses import dataclass

# Field kinds (proto scalar types, as MLflow's JSON mapping carries them).
STRING = "string"
INT = "int"  # int32 / int64: JSON numbers, or strings (protobuf-java writes int64 as strings)
DOUBLE = "double"  # numbers, or "NaN" / "Infinity" / "-Infinity"
BOOL = "bool"
ENUM = "enum"  # the value name, or its number
MESSAGE = "message"  # a nested object, decoded by the codec function named by ``message``

VIEW_TYPE = (("ACTIVE_ONLY", 1), ("DELETED_ONLY", 2), ("ALL", 3))
RUN_STATUS = (("RUNNING", 1), ("SCHEDULED", 2), ("FINISHED", 3), ("FAILED", 4), ("KILLED", 5))


@dataclass(frozen=True, slots=True)
class Field:
    """One request field: its proto name, kind, and whether it is repeated or required."""

    name: str
    kind: str = STRING
    repeated: bool = False
    required: bool = False
    message: str = ""
    enum: tuple[tuple[str, int], ...] = ()

    @property
    def json_name(self) -> str:
        """The lowerCamel spelling that protobuf's JSON parser also accepts."""
        head, *rest = self.name.split("_")
        return head + "".join(part.capitalize() for part in rest)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One RPC: HTTP methods (the first is what the REST store sends), proto path, fields."""

    name: str
    methods: tuple[str, ...]
    path: str
    fields: tuple[Field, ...] = ()
    major: int = 2
    api: bool = True  # served under /api (False: UI-only routes under /ajax-api)
    run_id_alias: bool = False  # accepts the legacy ``run_uuid`` for ``run_id``

    @property
    def method(self) -> str:
        """The HTTP method the REST store sends (the first of :attr:`methods`)."""
        return self.methods[0]

    @property
    def api_path(self) -> str:
        """The path the REST store calls: ``/api/<major>.0<path>`` (or ajax-api if UI-only)."""
        return f"/{'api' if self.api else 'ajax-api'}/{self.major}.0{self.path}"

    def route_paths(self) -> list[str]:
        """Every path the server serves this RPC at (only its own major version)."""
        prefixes = ("api", "ajax-api") if self.api else ("ajax-api",)
        return [f"/{prefix}/{self.major}.0{self.path}" for prefix in prefixes]


def required(name: str, kind: str = STRING) -> Field:
    """A required scalar field."""
    return Field(name, kind, required=True)


def repeated(name: str, kind: str = STRING, message: str = "") -> Field:
    """An optional repeated field (of messages decoded by the codec's ``message`` if given)."""
    return Field(name, kind, repeated=True, message=message)


RUN_ID = required("run_id")
EXPERIMENT_ID = required("experiment_id")
KEY = required("key")

__all__ = [
    "BOOL",
    "DOUBLE",
    "ENUM",
    "EXPERIMENT_ID",
    "INT",
    "KEY",
    "MESSAGE",
    "RUN_ID",
    "RUN_STATUS",
    "STRING",
    "VIEW_TYPE",
    "Endpoint",
    "Field",
    "repeated",
    "required",
]
