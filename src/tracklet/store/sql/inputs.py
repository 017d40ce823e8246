"""Core statements for a run's inputs (datasets, models) and outputs (models)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tracklet.entities import DatasetInput, LoggedModelInput, LoggedModelOutput
from tracklet.store.sql.schema import (
    datasets,
    input_tags,
    run_dataset_inputs,
    run_model_inputs,
    run_model_outputs,
    runs,
)


def _next_position(conn: Connection, table: sa.Table, run_id: str) -> int:
    current = conn.execute(
        sa.select(sa.func.max(table.c.position)).where(table.c.run_uuid == run_id)
    ).scalar()
    return 0 if current is None else int(current) + 1


def _dataset_uuid(conn: Connection, experiment_id: int, dataset_input: DatasetInput) -> str:
    """The id of this (experiment, name, digest) dataset, recording it on first use."""
    ds = dataset_input.dataset
    found = conn.execute(
        sa.select(datasets.c.dataset_uuid).where(
            datasets.c.experiment_id == experiment_id,
            datasets.c.name == ds.name,
            datasets.c.digest == ds.digest,
        )
    ).scalar()
    if found is not None:
        return str(found)
    dataset_uuid = uuid.uuid4().hex
    conn.execute(
        datasets.insert().values(
            dataset_uuid=dataset_uuid,
            experiment_id=experiment_id,
            name=ds.name,
            digest=ds.digest,
            source_type=ds.source_type,
            source=ds.source,
            schema=ds.schema,
            profile=ds.profile,
        )
    )
    return dataset_uuid


def write_dataset_inputs(
    conn: Connection, run_id: str, dataset_inputs: Sequence[DatasetInput]
) -> None:
    """Link datasets to the run; logging one again only updates its input tags."""
    if not dataset_inputs:
        return
    experiment_id = conn.execute(
        sa.select(runs.c.experiment_id).where(runs.c.run_uuid == run_id)
    ).scalar_one()
    position = _next_position(conn, run_dataset_inputs, run_id)
    for dataset_input in dataset_inputs:
        dataset_uuid = _dataset_uuid(conn, experiment_id, dataset_input)
        linked = conn.execute(
            sa.select(run_dataset_inputs.c.position).where(
                run_dataset_inputs.c.run_uuid == run_id,
                run_dataset_inputs.c.dataset_uuid == dataset_uuid,
            )
        ).first()
        if linked is None:
            conn.execute(
                run_dataset_inputs.insert().values(
                    run_uuid=run_id, dataset_uuid=dataset_uuid, position=position
                )
            )
            position += 1
        for tag in dataset_input.tags:
            updated = conn.execute(
                input_tags.update()
                .where(
                    input_tags.c.run_uuid == run_id,
                    input_tags.c.dataset_uuid == dataset_uuid,
                    input_tags.c.key == tag.key,
                )
                .values(value=tag.value)
            ).rowcount
            if not updated:
                conn.execute(
                    input_tags.insert().values(
                        run_uuid=run_id, dataset_uuid=dataset_uuid, key=tag.key, value=tag.value
                    )
                )


def write_model_inputs(
    conn: Connection, run_id: str, models: Sequence[LoggedModelInput]
) -> None:
    if not models:
        return
    present = set(
        conn.execute(
            sa.select(run_model_inputs.c.model_id).where(run_model_inputs.c.run_uuid == run_id)
        ).scalars()
    )
    position = _next_position(conn, run_model_inputs, run_id)
    for model in models:
        if model.model_id in present:
            continue
        present.add(model.model_id)
        conn.execute(
            run_model_inputs.insert().values(
                run_uuid=run_id, model_id=model.model_id, position=position
            )
        )
        position += 1


def write_model_outputs(
    conn: Connection, run_id: str, models: Sequence[LoggedModelOutput]
) -> None:
    for model in models:
        exists = conn.execute(
            sa.select(run_model_outputs.c.model_id).where(
                run_model_outputs.c.run_uuid == run_id,
                run_model_outputs.c.model_id == model.model_id,
                run_model_outputs.c.step == model.step,
            )
        ).first()
        if exists is None:
            conn.execute(
                run_model_outputs.insert().values(
                    run_uuid=run_id, model_id=model.model_id, step=model.step
                )
            )
