"""Removing deleted runs, experiments and logged models for good (``tracklet gc``).

Rows only; their artifacts are the caller's to delete first. Child rows go by the schema's
``ON DELETE CASCADE`` (SQLite connections enable foreign keys); ``input_tags`` has no foreign
key and is cleared here.
"""

from __future__ import annotations

import sqlalchemy as sa

from tracklet.entities import LifecycleStage
from tracklet.store.sql.compiled import Db
from tracklet.store.sql.schema import experiments, input_tags, logged_models, runs, trace_run_links


def deleted_runs(db: Db, threshold: int) -> list[str]:
    """Ids of runs deleted at or before ``threshold`` (ms), as MLflow's ``_get_deleted_runs``."""
    query = sa.select(runs.c.run_uuid).where(
        runs.c.lifecycle_stage == LifecycleStage.DELETED, runs.c.deleted_time <= threshold
    )
    return [r[0] for r in db.execute_core(query).fetchall()]


def run_rows(db: Db, run_ids: list[str]) -> dict[str, tuple[str, str | None, int | None]]:
    """run id -> (lifecycle stage, artifact URI, deleted time) of the runs that exist."""
    query = sa.select(
        runs.c.run_uuid, runs.c.lifecycle_stage, runs.c.artifact_uri, runs.c.deleted_time
    ).where(runs.c.run_uuid.in_(run_ids))
    return {r[0]: (r[1], r[2], r[3]) for r in db.execute_core(query).fetchall()}


def experiment_run_ids(db: Db, experiment_ids: list[str]) -> list[str]:
    """Ids of every run of these experiments, whatever its stage."""
    query = sa.select(runs.c.run_uuid).where(
        runs.c.experiment_id.in_([int(e) for e in experiment_ids])
    )
    return [r[0] for r in db.execute_core(query).fetchall()]


def experiment_rows(db: Db, experiment_ids: list[str]) -> dict[str, tuple[str, int | None]]:
    """experiment id -> (lifecycle stage, last update time) of the experiments that exist."""
    query = sa.select(
        experiments.c.experiment_id, experiments.c.lifecycle_stage, experiments.c.last_update_time
    ).where(experiments.c.experiment_id.in_([int(e) for e in experiment_ids]))
    return {str(r[0]): (r[1], r[2]) for r in db.execute_core(query).fetchall()}


def deleted_experiments(db: Db, updated_before: int | None) -> list[str]:
    """Ids of deleted experiments, last updated before ``updated_before`` (ms) when given."""
    query = sa.select(experiments.c.experiment_id).where(
        experiments.c.lifecycle_stage == LifecycleStage.DELETED
    )
    if updated_before is not None:
        query = query.where(experiments.c.last_update_time < updated_before)
    return [str(r[0]) for r in db.execute_core(query).fetchall()]


def deleted_logged_models(db: Db, threshold: int) -> dict[str, str]:
    """model id -> artifact location of deleted logged models last updated at or before
    ``threshold`` (ms), as MLflow's ``_get_deleted_logged_models``."""
    query = sa.select(logged_models.c.model_id, logged_models.c.artifact_location).where(
        logged_models.c.lifecycle_stage == LifecycleStage.DELETED,
        logged_models.c.last_updated_timestamp <= threshold,
    )
    return {r[0]: r[1] for r in db.execute_core(query).fetchall()}


def logged_model_rows(db: Db, model_ids: list[str]) -> dict[str, tuple[str, str]]:
    """model id -> (lifecycle stage, artifact location) of the logged models that exist."""
    query = sa.select(
        logged_models.c.model_id, logged_models.c.lifecycle_stage, logged_models.c.artifact_location
    ).where(logged_models.c.model_id.in_(model_ids))
    return {r[0]: (r[1], r[2]) for r in db.execute_core(query).fetchall()}


def delete_run(db: Db, run_id: str) -> None:
    """A run's rows: the run, its params, tags, metrics, inputs, outputs and trace links."""
    db.execute_core(sa.delete(input_tags).where(input_tags.c.run_uuid == run_id))
    db.execute_core(sa.delete(trace_run_links).where(trace_run_links.c.run_id == run_id))
    db.execute_core(sa.delete(runs).where(runs.c.run_uuid == run_id))


def delete_experiment(db: Db, experiment_id: str) -> None:
    """An experiment's rows (its runs must be gone): tags, datasets, logged models, traces."""
    db.execute_core(sa.delete(experiments).where(experiments.c.experiment_id == int(experiment_id)))


def delete_logged_model(db: Db, model_id: str) -> None:
    """A logged model's rows: the model, its tags, params and metrics."""
    db.execute_core(sa.delete(logged_models).where(logged_models.c.model_id == model_id))
