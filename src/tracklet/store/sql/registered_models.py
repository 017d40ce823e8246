"""Statements for registered models, their tags and aliases; the registry's input checks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from tracklet import validation
from tracklet.entities.model_registry import (
    IS_PROMPT_TAG_KEY,
    ModelVersion,
    RegisteredModel,
    RegisteredModelTag,
)
from tracklet.exceptions import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)
from tracklet.store.sql.compiled import Compiled, Db, bp, expanding, insert_for, stmt
from tracklet.store.sql.schema import (
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)

MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 100_000
MAX_ALIAS_LENGTH = 255
_ALIAS = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS = re.compile(r"^[vV]\d+$")

rm = registered_models.c
COLUMNS = (rm.name, rm.creation_time, rm.last_updated_time, rm.description, rm.deployment_job_id)

# ---------------------------------------------------------------------- checks (MLflow's)


def validate_name(name: object, path: str = "name") -> str:
    """A registered model name: non-blank, no '/' or ':' (they would break ``models:/`` URIs)."""
    if name is None or (isinstance(name, str) and not name.strip()):
        raise MlflowException(validation.missing_value(path), INVALID_PARAMETER_VALUE)
    if not isinstance(name, str):
        raise MlflowException(validation.invalid_value(path, name), INVALID_PARAMETER_VALUE)
    if "/" in name or ":" in name:
        raise MlflowException(
            f"Invalid model name '{name}'. Names cannot contain '/' or ':'.",
            INVALID_PARAMETER_VALUE,
        )
    if len(name) > 256:
        raise MlflowException(
            validation.exceeds_maximum_length(path, 256, len(name)), INVALID_PARAMETER_VALUE
        )
    return name


def parse_version(version: object) -> int:
    """A version number from its wire form ("3") or an int."""
    if isinstance(version, bool):
        version = str(version)
    try:
        number = int(str(version).strip()) if not isinstance(version, int) else version
    except ValueError:
        raise MlflowException(
            f"Parameter 'version' must be an integer, got '{version}'.", INVALID_PARAMETER_VALUE
        ) from None
    if not validation.INT64_MIN <= number <= validation.INT64_MAX:
        raise MlflowException(
            f"Parameter 'version' must be an integer, got '{version}'.", INVALID_PARAMETER_VALUE
        )
    return number


def validate_tag(key: object, value: object) -> tuple[str, str]:
    """A registry tag (model or version): a run-tag key, values up to 100,000 characters."""
    checked_key = validation.validate_key(key)
    validation.limit_length("key", MAX_TAG_KEY_LENGTH, checked_key, truncate=False)
    text = "" if value is None else str(value)
    validation.limit_length("value", MAX_TAG_VALUE_LENGTH, text, truncate=False)
    return checked_key, text


def validate_alias(alias: object, *, reserved: bool = False) -> str:
    """An alias name; with ``reserved``, also refuse the names MLflow keeps for itself."""
    if alias is None or alias == "":
        raise MlflowException(
            "Registered model alias name cannot be empty.", INVALID_PARAMETER_VALUE
        )
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise MlflowException(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, "
            "underscores (_), and dashes (-).",
            INVALID_PARAMETER_VALUE,
        )
    if len(alias) > MAX_ALIAS_LENGTH:
        raise MlflowException(
            validation.exceeds_maximum_length(
                "Registered model alias name", MAX_ALIAS_LENGTH, len(alias)
            ),
            INVALID_PARAMETER_VALUE,
        )
    if reserved:
        if alias.lower() == "latest":
            raise MlflowException(
                "'latest' alias name (case insensitive) is reserved.", INVALID_PARAMETER_VALUE
            )
        if _VERSION_ALIAS.match(alias):
            raise MlflowException(
                f"Version alias name '{alias}' is reserved.", INVALID_PARAMETER_VALUE
            )
    return alias


def not_found(name: str) -> MlflowException:
    return MlflowException(f"Registered Model with name={name} not found", RESOURCE_DOES_NOT_EXIST)


def already_exists(name: str) -> MlflowException:
    return MlflowException(
        f"Registered Model (name={name}) already exists.", RESOURCE_ALREADY_EXISTS
    )


# ---------------------------------------------------------------------- statements

# ON CONFLICT DO NOTHING: of processes creating one name at once, exactly one inserts a row
# and the others are told it exists, with no constraint error to catch.
_INSERT = Compiled(
    lambda dialect_name: (
        insert_for(dialect_name)(registered_models)
        .values(
            name=bp("name"),
            creation_time=bp("now"),
            last_updated_time=bp("now"),
            description=bp("description"),
            deployment_job_id=bp("deployment_job_id"),
        )
        .on_conflict_do_nothing(index_elements=[rm.name])
    )
)
_BY_NAME = stmt(lambda: sa.select(*COLUMNS).where(rm.name == bp("name")))
_EXISTS = stmt(lambda: sa.select(rm.name).where(rm.name == bp("name")))
# Also the row lock that serialises version numbering on PostgreSQL (see model_versions).
_TOUCH = stmt(
    lambda: (
        registered_models.update().where(rm.name == bp("name")).values(last_updated_time=bp("now"))
    )
)
_UPDATE = stmt(
    lambda: (
        registered_models.update()
        .where(rm.name == bp("name"))
        .values(
            description=bp("description"),
            deployment_job_id=bp("deployment_job_id"),
            last_updated_time=bp("now"),
        )
    )
)
_RENAME = stmt(
    lambda: (
        registered_models.update()
        .where(rm.name == bp("name"))
        .values(name=bp("new_name"), last_updated_time=bp("now"))
    )
)
_DELETE = stmt(lambda: registered_models.delete().where(rm.name == bp("name")))
_TOUCH_VERSIONS = stmt(
    lambda: (
        model_versions.update()
        .where(model_versions.c.name == bp("name"))
        .values(last_updated_time=bp("now"))
    )
)

t = registered_model_tags.c


def _upsert_tag(dialect_name: str) -> Any:
    insert = insert_for(dialect_name)(registered_model_tags).values(
        name=bp("name"), key=bp("key"), value=bp("value")
    )
    return insert.on_conflict_do_update(
        index_elements=[t.name, t.key], set_={"value": insert.excluded.value}
    )


_UPSERT_TAG = Compiled(_upsert_tag)
_DELETE_TAG = stmt(
    lambda: registered_model_tags.delete().where(t.name == bp("name"), t.key == bp("key"))
)
_TAGS = stmt(
    lambda: sa.select(t.name, t.key, t.value).where(t.name.in_(expanding("names"))).order_by(t.key)
)

a = registered_model_aliases.c


def _upsert_alias(dialect_name: str) -> Any:
    insert = insert_for(dialect_name)(registered_model_aliases).values(
        name=bp("name"), alias=bp("alias"), version=bp("version")
    )
    return insert.on_conflict_do_update(
        index_elements=[a.name, a.alias], set_={"version": insert.excluded.version}
    )


_UPSERT_ALIAS = Compiled(_upsert_alias)
_DELETE_ALIAS = stmt(
    lambda: registered_model_aliases.delete().where(a.name == bp("name"), a.alias == bp("alias"))
)
_DELETE_ALIASES_OF_VERSION = stmt(
    lambda: registered_model_aliases.delete().where(
        a.name == bp("name"), a.version == bp("version")
    )
)
_ALIAS_VERSION = stmt(
    lambda: sa.select(a.version).where(a.name == bp("name"), a.alias == bp("alias"))
)
_ALIASES = stmt(
    lambda: (
        sa.select(a.name, a.alias, a.version)
        .where(a.name.in_(expanding("names")))
        .order_by(a.alias)
    )
)


def is_prompt_tagged(tags: dict[str, str]) -> bool:
    return tags.get(IS_PROMPT_TAG_KEY, "").lower() == "true"


# ---------------------------------------------------------------------- operations


def insert(
    db: Db,
    name: str,
    tags: Sequence[RegisteredModelTag],
    description: str | None,
    deployment_job_id: str | None,
    now: int,
) -> None:
    """Insert a model; RESOURCE_ALREADY_EXISTS if the name is taken (even a moment ago)."""
    params = {
        "name": name,
        "now": now,
        "description": description,
        "deployment_job_id": deployment_job_id,
    }
    if db.rowcount(_INSERT, params) == 0:
        raise already_exists(name)
    write_tags(db, name, tags)


def require(db: Db, name: str) -> Any:
    row = db.one(_BY_NAME, {"name": name})
    if row is None:
        raise not_found(name)
    return row


def exists(db: Db, name: str) -> bool:
    return db.one(_EXISTS, {"name": name}) is not None


def touch(db: Db, name: str, now: int) -> None:
    """Update the model's time and take its row lock; raise if there is no such model."""
    if db.rowcount(_TOUCH, {"name": name, "now": now}) == 0:
        raise not_found(name)


def update(db: Db, name: str, description: str | None, job_id: str | None, now: int) -> None:
    params = {"name": name, "description": description, "deployment_job_id": job_id, "now": now}
    if db.rowcount(_UPDATE, params) == 0:
        raise not_found(name)


def is_integrity_error(error: BaseException) -> bool:
    """A DB-API constraint violation, from sqlite3 or psycopg alike."""
    return any(cls.__name__ == "IntegrityError" for cls in type(error).__mro__)


def rename(db: Db, name: str, new_name: str, now: int) -> None:
    """Rename; versions, tags and aliases follow through ON UPDATE CASCADE, and the versions
    count as updated (as in MLflow)."""
    if new_name != name and exists(db, new_name):
        raise already_exists(new_name)
    try:
        renamed = db.rowcount(_RENAME, {"name": name, "new_name": new_name, "now": now})
    except Exception as error:
        if is_integrity_error(error):  # created by another process since the check above
            raise already_exists(new_name) from None
        raise
    if renamed == 0:
        raise not_found(name)
    db.execute(_TOUCH_VERSIONS, {"name": new_name, "now": now})


def delete(db: Db, name: str) -> None:
    if db.rowcount(_DELETE, {"name": name}) == 0:
        raise not_found(name)


def write_tags(db: Db, name: str, tags: Sequence[RegisteredModelTag]) -> None:
    db.executemany(_UPSERT_TAG, [{"name": name, "key": t.key, "value": t.value} for t in tags])


def delete_tag(db: Db, name: str, key: str) -> None:
    db.execute(_DELETE_TAG, {"name": name, "key": key})


def set_alias(db: Db, name: str, alias: str, version: int) -> None:
    db.execute(_UPSERT_ALIAS, {"name": name, "alias": alias, "version": version})


def delete_alias(db: Db, name: str, alias: str) -> None:
    db.execute(_DELETE_ALIAS, {"name": name, "alias": alias})


def delete_aliases_of_version(db: Db, name: str, version: int) -> None:
    db.execute(_DELETE_ALIASES_OF_VERSION, {"name": name, "version": version})


def alias_version(db: Db, name: str, alias: str) -> int | None:
    value = db.scalar(_ALIAS_VERSION, {"name": name, "alias": alias})
    return None if value is None else int(value)


def tags_of(db: Db, names: Sequence[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {n: {} for n in names}
    for name, key, value in db.execute_in(_TAGS, "names", list(names)).fetchall():
        found[name][key] = value
    return found


def aliases_of(db: Db, names: Sequence[str]) -> dict[str, dict[str, str]]:
    """Each model's aliases: alias -> version (as the wire's string)."""
    found: dict[str, dict[str, str]] = {n: {} for n in names}
    for name, alias, version in db.execute_in(_ALIASES, "names", list(names)).fetchall():
        found[name][alias] = str(version)
    return found


def to_entities(
    db: Db, rows: Sequence[Any], latest: dict[str, list[ModelVersion]]
) -> list[RegisteredModel]:
    """Entities for rows of COLUMNS, with their tags, aliases and ``latest`` versions."""
    names = [row[0] for row in rows]
    tags = tags_of(db, names) if names else {}
    aliases = aliases_of(db, names) if names else {}
    return [
        RegisteredModel(
            name=row[0],
            creation_timestamp=row[1],
            last_updated_timestamp=row[2],
            description=row[3],
            latest_versions=latest.get(row[0], []),
            tags=tags[row[0]],
            aliases=aliases[row[0]],
            deployment_job_id=row[4],
        )
        for row in rows
    ]
