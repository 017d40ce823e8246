"""Statements for a run's inputs (datasets, models) and outputs (models)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from tracklet.entities import DatasetInput, LoggedModelInput, LoggedModelOutput
from tracklet.store.sql.compiled import Compiled, Db, bp, insert_for, literal, stmt
from tracklet.store.sql.schema import (
    datasets,
    input_tags,
    run_dataset_inputs,
    run_model_inputs,
    run_model_outputs,
    runs,
)

_EXPERIMENT_OF_RUN = stmt(
    lambda: sa.select(runs.c.experiment_id).where(runs.c.run_uuid == bp("run_uuid"))
)
_DATASET_ID = stmt(
    lambda: sa.select(datasets.c.dataset_uuid).where(
        datasets.c.experiment_id == bp("experiment_id"),
        datasets.c.name == bp("name"),
        datasets.c.digest == bp("digest"),
    )
)
_INSERT_DATASET = stmt(
    lambda: datasets.insert().values(
        dataset_uuid=bp("dataset_uuid"),
        experiment_id=bp("experiment_id"),
        name=bp("name"),
        digest=bp("digest"),
        source_type=bp("source_type"),
        source=bp("source"),
        schema=bp("schema"),
        profile=bp("profile"),
    )
)
_NEXT_DATASET_POSITION = stmt(
    lambda: sa.select(
        sa.func.coalesce(sa.func.max(run_dataset_inputs.c.position) + literal("1"), literal("0"))
    ).where(run_dataset_inputs.c.run_uuid == bp("run_uuid"))
)
_LINK_DATASET = Compiled(
    lambda d: (
        insert_for(d)(run_dataset_inputs)
        .values(run_uuid=bp("run_uuid"), dataset_uuid=bp("dataset_uuid"), position=bp("position"))
        .on_conflict_do_nothing(
            index_elements=[run_dataset_inputs.c.run_uuid, run_dataset_inputs.c.dataset_uuid]
        )
    )
)


def _upsert_input_tag(dialect_name: str) -> Any:
    insert = insert_for(dialect_name)(input_tags).values(
        run_uuid=bp("run_uuid"),
        dataset_uuid=bp("dataset_uuid"),
        key=bp("key"),
        value=bp("value"),
    )
    return insert.on_conflict_do_update(
        index_elements=[input_tags.c.run_uuid, input_tags.c.dataset_uuid, input_tags.c.key],
        set_={"value": insert.excluded.value},
    )


_UPSERT_INPUT_TAG = Compiled(_upsert_input_tag)
_NEXT_MODEL_POSITION = stmt(
    lambda: sa.select(
        sa.func.coalesce(sa.func.max(run_model_inputs.c.position) + literal("1"), literal("0"))
    ).where(run_model_inputs.c.run_uuid == bp("run_uuid"))
)
_LINK_MODEL_INPUT = Compiled(
    lambda d: (
        insert_for(d)(run_model_inputs)
        .values(run_uuid=bp("run_uuid"), model_id=bp("model_id"), position=bp("position"))
        .on_conflict_do_nothing(
            index_elements=[run_model_inputs.c.run_uuid, run_model_inputs.c.model_id]
        )
    )
)
_LINK_MODEL_OUTPUT = Compiled(
    lambda d: (
        insert_for(d)(run_model_outputs)
        .values(run_uuid=bp("run_uuid"), model_id=bp("model_id"), step=bp("step"))
        .on_conflict_do_nothing()
    )
)


def _dataset_uuid(db: Db, experiment_id: int, dataset_input: DatasetInput) -> str:
    """The id of this (experiment, name, digest) dataset, recording it on first use."""
    ds = dataset_input.dataset
    key = {"experiment_id": experiment_id, "name": ds.name, "digest": ds.digest}
    found = db.scalar(_DATASET_ID, key)
    if found is not None:
        return str(found)
    dataset_uuid = uuid.uuid4().hex
    db.execute(
        _INSERT_DATASET,
        {
            **key,
            "dataset_uuid": dataset_uuid,
            "source_type": ds.source_type,
            "source": ds.source,
            "schema": ds.schema,
            "profile": ds.profile,
        },
    )
    return dataset_uuid


def write_dataset_inputs(db: Db, run_id: str, dataset_inputs: Sequence[DatasetInput]) -> None:
    """Link datasets to the run; logging one already linked changes nothing (MLflow keeps the
    first input tags)."""
    if not dataset_inputs:
        return
    experiment_id = db.scalar(_EXPERIMENT_OF_RUN, {"run_uuid": run_id})
    for dataset_input in dataset_inputs:
        dataset_uuid = _dataset_uuid(db, experiment_id, dataset_input)
        position = db.scalar(_NEXT_DATASET_POSITION, {"run_uuid": run_id})
        linked = db.execute(
            _LINK_DATASET,
            {"run_uuid": run_id, "dataset_uuid": dataset_uuid, "position": position},
        ).rowcount
        if not linked:
            continue
        db.executemany(
            _UPSERT_INPUT_TAG,
            [
                {"run_uuid": run_id, "dataset_uuid": dataset_uuid, "key": t.key, "value": t.value}
                for t in dataset_input.tags
            ],
        )


def write_model_inputs(db: Db, run_id: str, models: Sequence[LoggedModelInput]) -> None:
    for model in models:
        position = db.scalar(_NEXT_MODEL_POSITION, {"run_uuid": run_id})
        db.execute(
            _LINK_MODEL_INPUT,
            {"run_uuid": run_id, "model_id": model.model_id, "position": position},
        )


def write_model_outputs(db: Db, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
    db.executemany(
        _LINK_MODEL_OUTPUT,
        [{"run_uuid": run_id, "model_id": m.model_id, "step": m.step} for m in models],
    )
