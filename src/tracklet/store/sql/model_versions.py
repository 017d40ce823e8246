"""Statements for model versions and their tags.

Version numbers: ``create_model_version`` first updates the registered model's row (its
``last_updated_time``), which takes that row's lock until commit, then reads the model's highest
version. On SQLite the writer's ``BEGIN IMMEDIATE`` already serialises every writing process;
on PostgreSQL the row lock does, and each statement of a READ COMMITTED transaction sees what
the previous holder committed. So concurrent registrations get 1, 2, 3... with no gap and no
duplicate, and a rolled-back registration leaves no hole. Deleted versions keep their rows (in
stage ``Deleted_Internal``), so a number is never reused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from tracklet.entities.model_registry import (
    STAGE_ARCHIVED,
    STAGE_DELETED_INTERNAL,
    STAGE_NONE,
    ModelVersion,
    ModelVersionStatus,
    ModelVersionTag,
)
from tracklet.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException
from tracklet.store.sql import registered_models
from tracklet.store.sql.compiled import Compiled, Db, bp, expanding, insert_for, literal, stmt
from tracklet.store.sql.schema import model_version_tags, model_versions

mv = model_versions.c
COLUMNS = (
    mv.name,
    mv.version,
    mv.creation_time,
    mv.last_updated_time,
    mv.description,
    mv.user_id,
    mv.current_stage,
    mv.source,
    mv.run_id,
    mv.status,
    mv.status_message,
    mv.run_link,
    mv.model_id,
)
_LIVE = mv.current_stage != literal(f"'{STAGE_DELETED_INTERNAL}'")


def not_found(name: str, version: object) -> MlflowException:
    return MlflowException(
        f"Model Version (name={name}, version={version}) not found", RESOURCE_DOES_NOT_EXIST
    )


_MAX_VERSION = stmt(lambda: sa.select(sa.func.max(mv.version)).where(mv.name == bp("name")))
_INSERT = stmt(
    lambda: model_versions.insert().values(
        name=bp("name"),
        version=bp("version"),
        creation_time=bp("now"),
        last_updated_time=bp("now"),
        description=bp("description"),
        user_id=bp("user_id"),
        current_stage=literal(f"'{STAGE_NONE}'"),
        source=bp("source"),
        storage_location=bp("storage_location"),
        run_id=bp("run_id"),
        run_link=bp("run_link"),
        status=literal(f"'{ModelVersionStatus.READY.value}'"),
        status_message=sa.null(),
        model_id=bp("model_id"),
    )
)
_BY_KEY = stmt(
    lambda: sa.select(*COLUMNS).where(mv.name == bp("name"), mv.version == bp("version"), _LIVE)
)
_STORAGE = stmt(
    lambda: sa.select(mv.storage_location, mv.source).where(
        mv.name == bp("name"), mv.version == bp("version"), _LIVE
    )
)
_SET_DESCRIPTION = stmt(
    lambda: (
        model_versions.update()
        .where(mv.name == bp("name"), mv.version == bp("version"), _LIVE)
        .values(description=bp("description"), last_updated_time=bp("now"))
    )
)
_SET_STAGE = stmt(
    lambda: (
        model_versions.update()
        .where(mv.name == bp("name"), mv.version == bp("version"), _LIVE)
        .values(current_stage=bp("stage"), last_updated_time=bp("now"))
    )
)
_ARCHIVE_OTHERS = stmt(
    lambda: (
        model_versions.update()
        .where(mv.name == bp("name"), mv.version != bp("version"), mv.current_stage == bp("stage"))
        .values(current_stage=literal(f"'{STAGE_ARCHIVED}'"), last_updated_time=bp("now"))
    )
)
# MLflow redacts a deleted version's row rather than removing it: the number stays taken.
_SOFT_DELETE = stmt(
    lambda: (
        model_versions.update()
        .where(mv.name == bp("name"), mv.version == bp("version"), _LIVE)
        .values(
            current_stage=literal(f"'{STAGE_DELETED_INTERNAL}'"),
            last_updated_time=bp("now"),
            description=sa.null(),
            user_id=sa.null(),
            source=literal("'REDACTED-SOURCE-PATH'"),
            storage_location=sa.null(),
            run_id=literal("'REDACTED-RUN-ID'"),
            run_link=literal("'REDACTED-RUN-LINK'"),
            status_message=sa.null(),
        )
    )
)

t = model_version_tags.c


def _upsert_tag(dialect_name: str) -> Any:
    insert = insert_for(dialect_name)(model_version_tags).values(
        name=bp("name"), version=bp("version"), key=bp("key"), value=bp("value")
    )
    return insert.on_conflict_do_update(
        index_elements=[t.name, t.version, t.key], set_={"value": insert.excluded.value}
    )


_UPSERT_TAG = Compiled(_upsert_tag)
_DELETE_TAG = stmt(
    lambda: model_version_tags.delete().where(
        t.name == bp("name"), t.version == bp("version"), t.key == bp("key")
    )
)


_TAGS_OF_VERSION = stmt(
    lambda: (
        sa.select(t.key, t.value)
        .where(t.name == bp("name"), t.version == bp("version"))
        .order_by(t.key)
    )
)


def _latest_per_stage() -> Any:
    newest = (
        sa.select(mv.name, mv.current_stage, sa.func.max(mv.version).label("version"))
        .where(mv.name.in_(expanding("names")), _LIVE)
        .group_by(mv.name, mv.current_stage)
        .subquery()
    )
    return (
        sa.select(*COLUMNS)
        .join(newest, sa.and_(mv.name == newest.c.name, mv.version == newest.c.version))
        .order_by(mv.name, mv.version)
    )


_LATEST_PER_STAGE = stmt(_latest_per_stage)


# ---------------------------------------------------------------------- operations


def next_version(db: Db, name: str) -> int:
    """The number the model's next version gets; call after ``registered_models.touch``."""
    highest = db.scalar(_MAX_VERSION, {"name": name})
    return 1 if highest is None else int(highest) + 1


def insert(
    db: Db,
    name: str,
    version: int,
    source: str,
    storage_location: str | None,
    run_id: str | None,
    run_link: str | None,
    description: str | None,
    user_id: str | None,
    model_id: str | None,
    tags: Sequence[ModelVersionTag],
    now: int,
) -> None:
    db.execute(
        _INSERT,
        {
            "name": name,
            "version": version,
            "now": now,
            "description": description,
            "user_id": user_id,
            "source": source,
            "storage_location": storage_location,
            "run_id": run_id,
            "run_link": run_link,
            "model_id": model_id,
        },
    )
    write_tags(db, name, version, tags)


def require(db: Db, name: str, version: int) -> Any:
    row = db.one(_BY_KEY, {"name": name, "version": version})
    if row is None:
        raise not_found(name, version)
    return row


def download_uri(db: Db, name: str, version: int) -> str:
    row = db.one(_STORAGE, {"name": name, "version": version})
    if row is None:
        raise not_found(name, version)
    return str(row[0] or row[1])


def set_description(db: Db, name: str, version: int, description: str | None, now: int) -> None:
    params = {"name": name, "version": version, "description": description, "now": now}
    if db.rowcount(_SET_DESCRIPTION, params) == 0:
        raise not_found(name, version)


def set_stage(db: Db, name: str, version: int, stage: str, archive_others: bool, now: int) -> None:
    params = {"name": name, "version": version, "stage": stage, "now": now}
    if db.rowcount(_SET_STAGE, params) == 0:
        raise not_found(name, version)
    if archive_others:
        db.execute(_ARCHIVE_OTHERS, params)


def soft_delete(db: Db, name: str, version: int, now: int) -> None:
    if db.rowcount(_SOFT_DELETE, {"name": name, "version": version, "now": now}) == 0:
        raise not_found(name, version)


def write_tags(db: Db, name: str, version: int, tags: Sequence[ModelVersionTag]) -> None:
    db.executemany(
        _UPSERT_TAG,
        [{"name": name, "version": version, "key": t.key, "value": t.value} for t in tags],
    )


def delete_tag(db: Db, name: str, version: int, key: str) -> None:
    db.execute(_DELETE_TAG, {"name": name, "version": version, "key": key})


def latest_per_stage(db: Db, names: Sequence[str]) -> dict[str, list[ModelVersion]]:
    """Each model's newest live version in each stage, oldest first (MLflow's latest_versions;
    without aliases, as MLflow returns them)."""
    found: dict[str, list[ModelVersion]] = {n: [] for n in names}
    if not names:
        return found
    rows = db.execute_in(_LATEST_PER_STAGE, "names", list(names)).fetchall()
    for version in to_entities(db, rows, with_aliases=False):
        found[version.name].append(version)
    return found


def _tags_of(db: Db, rows: Sequence[Any]) -> dict[tuple[str, int], dict[str, str]]:
    wanted = {(row[0], int(row[1])) for row in rows}
    if len(wanted) == 1:  # one version (get, create, update): a statement compiled once
        ((name, version),) = wanted
        params = {"name": name, "version": version}
        return {(name, version): dict(db.all(_TAGS_OF_VERSION, params))}
    found: dict[tuple[str, int], dict[str, str]] = {k: {} for k in wanted}
    # Names and numbers apart (a superset of the pairs, trimmed below): a page of one model's
    # versions reads just their tags.
    query = (
        sa.select(t.name, t.version, t.key, t.value)
        .where(
            t.name.in_(sorted({name for name, _ in wanted})),
            t.version.in_(sorted({version for _, version in wanted})),
        )
        .order_by(t.key)
    )
    for name, version, key, value in db.execute_core(query).fetchall():
        tags = found.get((name, int(version)))
        if tags is not None:
            tags[key] = value
    return found


def to_entities(db: Db, rows: Iterable[Any], *, with_aliases: bool = True) -> list[ModelVersion]:
    """Entities for rows of COLUMNS, with their tags and (``with_aliases``) aliases."""
    rows = list(rows)
    if not rows:
        return []
    tags = _tags_of(db, rows)
    aliases: dict[tuple[str, int], list[str]] = {}
    if with_aliases:
        by_model = registered_models.aliases_of(db, sorted({row[0] for row in rows}))
        for name, named in by_model.items():
            for alias, version in named.items():
                aliases.setdefault((name, int(version)), []).append(alias)
    return [
        ModelVersion(
            name=row[0],
            version=str(row[1]),
            creation_timestamp=row[2],
            last_updated_timestamp=row[3],
            description=row[4],
            user_id=row[5],
            current_stage=row[6],
            source=row[7],
            run_id=row[8],
            status=row[9],
            status_message=row[10],
            tags=tags[(row[0], int(row[1]))],
            run_link=row[11],
            aliases=aliases.get((row[0], int(row[1])), []),
            model_id=row[12],
        )
        for row in rows
    ]
