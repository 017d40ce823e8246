"""``tracklet gc``: permanently remove deleted runs, experiments and logged models, with their
artifacts, as ``mlflow gc`` does (its options, its checks, its messages).

It works on the backend database itself (``--backend-store-uri`` or a database
``--tracking-uri``), as MLflow's does: a tracking server offers no call that removes rows.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from tracklet.cli._common import mlflow_errors, progress, resolve_uri, split_ids

if TYPE_CHECKING:
    from tracklet.store.sql.store import SqlStore

_AGE = re.compile(
    r"^((?P<days>[\.\d]+?)d)?((?P<hours>[\.\d]+?)h)?((?P<minutes>[\.\d]+?)m)"
    r"?((?P<seconds>[\.\d]+?)s)?$"
)


def parse_age(older_than: str) -> int:
    """``--older-than`` (``1d2h3m4s``, ``1.5d``) in milliseconds, parsed as MLflow parses it."""
    parts = _AGE.match(older_than)
    if parts is None:
        raise click.BadParameter(
            f"Could not parse any time information from '{older_than}'. "
            "Examples of valid strings: '8h', '2d8h5m20s', '2m4s'",
            param_hint="--older-than",
        )
    fields = {name: float(value) for name, value in parts.groupdict().items() if value}
    return int(timedelta(**fields).total_seconds() * 1000)


@click.command()
@click.option(
    "--older-than",
    default=None,
    help="Remove only what was deleted longer ago than this, e.g. 30d, 1d2h3m4s, 1.2d.",
)
@click.option(
    "--backend-store-uri",
    default=None,
    metavar="URI",
    help="The database to clean (sqlite:///... or postgresql://...); default: --tracking-uri.",
)
@click.option("--run-ids", default=None, help="Comma-separated ids of deleted runs to remove.")
@click.option(
    "--experiment-ids",
    default=None,
    help="Comma-separated ids of deleted experiments to remove, with all their runs.",
)
@click.option(
    "--logged-model-ids", default=None, help="Comma-separated ids of deleted logged models."
)
@click.option(
    "--tracking-uri",
    default=None,
    metavar="URI",
    help="The tracking URI (default: MLFLOW_TRACKING_URI, else sqlite:///tracklet.db); gc "
    "needs a database URI.",
)
def gc(
    older_than: str | None,
    backend_store_uri: str | None,
    run_ids: str | None,
    experiment_ids: str | None,
    logged_model_ids: str | None,
    tracking_uri: str | None,
) -> None:
    """Permanently delete runs (and experiments, logged models) in the `deleted` lifecycle
    stage, with their artifacts. Without ids: everything deleted (longer ago than
    --older-than). With ids: exactly those, which must be deleted (and old enough)."""
    from tracklet.store.schemes import scheme_of

    uri = backend_store_uri or resolve_uri(tracking_uri)
    if scheme_of(uri) not in ("sqlite", "postgresql", "postgres"):
        raise click.UsageError(
            f"tracklet gc works on the backend database, not {uri!r}: pass "
            "--backend-store-uri sqlite:///... or postgresql://... (the server's database)."
        )
    age = parse_age(older_than) if older_than is not None else 0
    from tracklet.store.sql.store import SqlStore

    with mlflow_errors():
        store = SqlStore(uri)
        try:
            _collect(
                store,
                age,
                older_than,
                split_ids(run_ids),
                split_ids(experiment_ids),
                split_ids(logged_model_ids),
            )
        finally:
            store.close()


def _collect(
    store: SqlStore,
    age: int,
    older_than: str | None,
    run_ids: list[str] | None,
    experiment_ids: list[str] | None,
    model_ids: list[str] | None,
) -> None:
    from tracklet.exceptions import (
        INVALID_PARAMETER_VALUE,
        RESOURCE_DOES_NOT_EXIST,
        MlflowException,
    )
    from tracklet.store.sql import hard_delete as hd

    threshold = int(time.time() * 1000) - age
    with store._reader() as db:
        old_runs = set(hd.deleted_runs(db, threshold))
        old_models = hd.deleted_logged_models(db, threshold)
        if experiment_ids:
            bad = [e for e in experiment_ids if not e.isdigit()]
            rows = hd.experiment_rows(db, [e for e in experiment_ids if e.isdigit()])
            missing = bad + [e for e in experiment_ids if e.isdigit() and e not in rows]
            if missing:
                raise MlflowException(
                    f"No Experiment with id={missing[0]} exists", RESOURCE_DOES_NOT_EXIST
                )
            active = [e for e in experiment_ids if rows[e][0] != "deleted"]
            if active:
                raise MlflowException(
                    f"Experiments {active} are not in the deleted lifecycle stage. Only "
                    "experiments in the deleted lifecycle stage can be hard-deleted.",
                    INVALID_PARAMETER_VALUE,
                )
            young = [e for e in experiment_ids if (rows[e][1] or threshold) >= threshold]
            if older_than and young:
                raise MlflowException(
                    f"Experiments {young} are not older than the required age. Only "
                    f"experiments older than {older_than} can be deleted.",
                    INVALID_PARAMETER_VALUE,
                )
            doomed_experiments = list(experiment_ids)
        else:
            doomed_experiments = hd.deleted_experiments(db, threshold if older_than else None)
        doomed_runs = list(run_ids) if run_ids is not None else sorted(old_runs)
        experiment_runs = (
            hd.experiment_run_ids(db, doomed_experiments) if doomed_experiments else []
        )
        doomed_runs += [r for r in experiment_runs if r not in set(doomed_runs)]
        run_rows = hd.run_rows(db, doomed_runs) if doomed_runs else {}
        doomed_models = list(model_ids) if model_ids is not None else sorted(old_models)
        model_rows = hd.logged_model_rows(db, doomed_models) if doomed_models else {}
    in_experiments = set(experiment_runs)
    for run_id in doomed_runs:
        row = run_rows.get(run_id)
        if row is None:
            raise MlflowException(f"Run with id={run_id} not found", RESOURCE_DOES_NOT_EXIST)
        if row[0] != "deleted" and run_id not in in_experiments:
            raise MlflowException(
                f"Run {run_id} is not in `deleted` lifecycle stage. Only runs in `deleted` "
                "lifecycle stage can be deleted."
            )
        if older_than and run_id not in old_runs and run_id not in in_experiments:
            raise MlflowException(
                f"Run {run_id} is not older than the required age. Only runs older than "
                f"{older_than} can be deleted.",
                INVALID_PARAMETER_VALUE,
            )
    for model_id in doomed_models:
        if model_id not in model_rows:
            raise MlflowException(
                f"Logged model with ID '{model_id}' not found.", RESOURCE_DOES_NOT_EXIST
            )
        if model_id not in old_models:
            raise MlflowException(
                f"Logged model {model_id} is not in `deleted` lifecycle stage. Only logged "
                "models in `deleted` lifecycle stage can be deleted.",
                INVALID_PARAMETER_VALUE,
            )
    _remove(store, doomed_runs, run_rows, doomed_models, model_rows, doomed_experiments)


def _remove(
    store: SqlStore,
    run_ids: list[str],
    run_rows: dict[str, tuple[str, str | None, int | None]],
    model_ids: list[str],
    model_rows: dict[str, tuple[str, str]],
    experiment_ids: list[str],
) -> None:
    from tracklet.store.sql import hard_delete as hd

    with progress(len(run_ids) + len(model_ids) + len(experiment_ids), "gc", "item") as bar:
        for run_id in run_ids:
            _delete_artifacts(run_rows[run_id][1], store.tracking_uri)
            with store._writer.transaction() as db:
                hd.delete_run(db, run_id)
            click.echo(f"Run with ID {run_id} has been permanently deleted.")
            bar.update()
        for model_id in model_ids:
            _delete_artifacts(model_rows[model_id][1], store.tracking_uri)
            with store._writer.transaction() as db:
                hd.delete_logged_model(db, model_id)
            click.echo(f"Logged model with ID {model_id} has been permanently deleted.")
            bar.update()
        for experiment_id in experiment_ids:
            with store._writer.transaction() as db:
                hd.delete_experiment(db, experiment_id)
            click.echo(f"Experiment with ID {experiment_id} has been permanently deleted.")
            bar.update()


def _delete_artifacts(uri: str | None, tracking_uri: str) -> None:
    """Delete an artifact root; one that cannot be reached is reported and skipped, as MLflow
    does, so the rows still go."""
    if not uri:
        return
    from tracklet.artifacts.registry import get_artifact_repository

    try:
        get_artifact_repository(uri, tracking_uri).delete_artifacts()
    except Exception as error:  # a bad URL or an unreachable bucket: say so, carry on
        click.secho(
            f"Unable to delete the artifacts at '{uri}' ({error!r}); the gc process continues. "
            "Please delete them by hand.",
            fg="yellow",
            err=True,
        )
