"""MLflow's permission levels, and the grant store's resource types."""

from __future__ import annotations

from dataclasses import dataclass

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException


@dataclass(frozen=True, slots=True)
class Permission:
    """What a level allows (MLflow's names and capabilities)."""

    name: str
    can_read: bool
    can_use: bool
    can_update: bool
    can_delete: bool
    can_manage: bool

    def allows(self, need: str) -> bool:
        """``need``: one of read, use, update, delete, manage."""
        return bool(getattr(self, f"can_{need}"))


READ = Permission("READ", True, False, False, False, False)
USE = Permission("USE", True, True, False, False, False)
EDIT = Permission("EDIT", True, True, True, False, False)
MANAGE = Permission("MANAGE", True, True, True, True, True)
NO_PERMISSIONS = Permission("NO_PERMISSIONS", False, False, False, False, False)
ALL = {p.name: p for p in (READ, USE, EDIT, MANAGE, NO_PERMISSIONS)}

EXPERIMENT = "experiment"
REGISTERED_MODEL = "registered_model"
RESOURCE_TYPES = (EXPERIMENT, REGISTERED_MODEL)


def _one_of(value: object, valid: list[str], what: str) -> str:
    if not isinstance(value, str) or value not in valid:
        raise MlflowException(
            f"Invalid {what} '{value}'. Valid {what}s are: {valid}", INVALID_PARAMETER_VALUE
        )
    return value


def get_permission(name: object) -> Permission:
    """The level called ``name``; INVALID_PARAMETER_VALUE naming the valid ones otherwise."""
    return ALL[_one_of(name, list(ALL), "permission")]


def check_resource_type(resource_type: object) -> str:
    return _one_of(resource_type, list(RESOURCE_TYPES), "resource_type")
