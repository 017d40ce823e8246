"""Reading whole runs in bulk: params, tags, latest metrics, inputs and outputs of many runs.

A search page builds thousands of runs, and the rows of their parts (about 15 a run) are most of
its cost, so each part is read for the whole page in one statement, in primary-key order (run,
key: an index walk with no sort, each run's keys in key order), and gathered into per-run dicts
in tight loops. The ids go in as one parameter (a JSON array read by ``json_each`` on SQLite, an
array on PostgreSQL) instead of an ``IN`` list of a thousand bound names. Dataset inputs and
logged-model inputs and outputs are read only when their tables have rows at all.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tracklet.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
)
from tracklet.entities._base import fast_constructor
from tracklet.store.sql.compiled import Compiled, Db, bp, literal, stmt
from tracklet.store.sql.schema import (
    datasets,
    input_tags,
    latest_metrics,
    params,
    run_dataset_inputs,
    run_model_inputs,
    run_model_outputs,
    tags,
)


def _in_ids(column: Any, dialect_name: str) -> Any:
    """``column`` is one of the ids bound to the parameter ``ids`` (see ``ids_param``)."""
    if dialect_name == "postgresql":
        return column == sa.any_(bp("ids", postgresql.ARRAY(sa.String)))
    return column.in_(sa.select(sa.func.json_each(bp("ids")).table_valued("value").c.value))


def ids_param(db: Db, ids: Sequence[str]) -> dict[str, Any]:
    """The parameters of a statement built with ``_in_ids``."""
    return {"ids": list(ids) if db.dialect_name == "postgresql" else json.dumps(list(ids))}


def _by_ids(table: sa.Table, *columns: str, order_by: Sequence[str] = ()) -> Compiled:
    def build(dialect_name: str) -> Any:
        return (
            sa.select(*(table.c[c] for c in columns))
            .where(_in_ids(table.c.run_uuid, dialect_name))
            .order_by(*(table.c[c] for c in order_by or ("run_uuid", "key")))
        )

    return Compiled(build)


PARAMS = _by_ids(params, "run_uuid", "key", "value")
TAGS = _by_ids(tags, "run_uuid", "key", "value")
# The value is NULL exactly when it is NaN (see schema), so is_nan need not be read.
LATEST = _by_ids(latest_metrics, "run_uuid", "key", "value", "timestamp", "step")
_INPUT_TAGS = _by_ids(
    input_tags, "run_uuid", "dataset_uuid", "key", "value", order_by=("run_uuid", "key")
)
_MODEL_INPUTS = _by_ids(run_model_inputs, "run_uuid", "model_id", order_by=("position",))
_MODEL_OUTPUTS = _by_ids(
    run_model_outputs, "run_uuid", "model_id", "step", order_by=("step", "model_id")
)


def _dataset_inputs(dialect_name: str) -> Any:
    rdi = run_dataset_inputs
    return (
        sa.select(
            rdi.c.run_uuid,
            datasets.c.dataset_uuid,
            datasets.c.name,
            datasets.c.digest,
            datasets.c.source_type,
            datasets.c.source,
            datasets.c.schema,
            datasets.c.profile,
        )
        .join_from(rdi, datasets, rdi.c.dataset_uuid == datasets.c.dataset_uuid)
        .where(_in_ids(rdi.c.run_uuid, dialect_name))
        .order_by(rdi.c.position)
    )


_DATASET_INPUTS = Compiled(_dataset_inputs)
# Whether any run at all has dataset inputs, model inputs, model outputs: one cheap statement,
# where probing each table for every run of a page costs a few µs a run.
_ANY_INPUTS_OUTPUTS = stmt(
    lambda: sa.select(
        *(
            sa.exists(sa.select(literal("1")).select_from(table))
            for table in (run_dataset_inputs, run_model_inputs, run_model_outputs)
        )
    )
)

_new_data = fast_constructor(RunData)
_new_run = fast_constructor(Run)
_new_inputs = fast_constructor(RunInputs)
_new_outputs = fast_constructor(RunOutputs)
_new_metric = fast_constructor(Metric)


def load_runs(db: Db, infos: Sequence[RunInfo]) -> list[Run]:
    """Whole runs (data, inputs, outputs) for these infos, in a fixed number of queries."""
    if not infos:
        return []
    bound = ids_param(db, [info.run_id for info in infos])
    params_of = gather(db.execute(PARAMS, bound).fetchall())
    tags_of = gather(db.execute(TAGS, bound).fetchall())
    metrics_of = _gather_metrics(db.execute(LATEST, bound).fetchall())
    has_datasets, has_models_in, has_models_out = db.one(_ANY_INPUTS_OUTPUTS)
    inputs_of: dict[str, RunInputs] = {}
    outputs_of: dict[str, RunOutputs] = {}
    if has_datasets or has_models_in or has_models_out:
        inputs_of, outputs_of = _inputs_outputs(
            db, bound, bool(has_datasets), bool(has_models_in), bool(has_models_out)
        )
    new_data, new_run, new_inputs, new_outputs = _new_data, _new_run, _new_inputs, _new_outputs
    no_metrics: tuple[Metric, ...] = ()
    result = []
    for info in infos:
        run_id = info.run_id
        metric_list = metrics_of.get(run_id)
        if metric_list is None:
            metrics: dict[str, float] = {}
            metric_objs = no_metrics
        else:
            metrics = {m.key: m.value for m in metric_list}
            metric_objs = tuple(metric_list)
        run_params = params_of.get(run_id) or {}
        data = new_data(metrics, run_params, tags_of.get(run_id) or {}, metric_objs)
        inputs = inputs_of.get(run_id) or new_inputs([], [])
        outputs = outputs_of.get(run_id) or new_outputs([])
        result.append(new_run(info, data, inputs, outputs))
    return result


def gather(rows: list[Any]) -> dict[str, dict[str, str]]:
    """(run, key, value) rows, grouped by run, as ``{run: {key: value}}``."""
    result: dict[str, dict[str, str]] = {}
    current_run: str | None = None
    values: dict[str, str] = {}
    for run_id, key, value in rows:
        if run_id != current_run:
            current_run = run_id
            values = result[run_id] = {}
        values[key] = value
    return result


def _gather_metrics(rows: list[Any]) -> dict[str, list[Metric]]:
    """(run, key, value, timestamp, step) rows, grouped by run, as latest-metric lists."""
    new_metric, nan = _new_metric, math.nan
    result: dict[str, list[Metric]] = {}
    current_run: str | None = None
    metrics: list[Metric] = []
    for run_id, key, value, timestamp, step in rows:
        if run_id != current_run:
            current_run = run_id
            metrics = result[run_id] = []
        metrics.append(
            new_metric(
                key, nan if value is None else value, timestamp, step, None, None, None, None
            )
        )
    return result


def _inputs_outputs(
    db: Db, bound: dict[str, Any], has_datasets: bool, has_models_in: bool, has_models_out: bool
) -> tuple[dict[str, RunInputs], dict[str, RunOutputs]]:
    """Dataset and model inputs and model outputs of the runs that have any."""
    datasets_of: dict[str, list[DatasetInput]] = {}
    models_in: dict[str, list[LoggedModelInput]] = {}
    models_out: dict[str, list[LoggedModelOutput]] = {}
    if has_datasets:
        input_tag_map: dict[tuple[str, str], list[InputTag]] = {}
        for run_id, dataset_uuid, key, value in db.execute(_INPUT_TAGS, bound).fetchall():
            input_tag_map.setdefault((run_id, dataset_uuid), []).append(InputTag(key, value))
        for row in db.execute(_DATASET_INPUTS, bound).fetchall():
            dataset = Dataset(
                name=row[2],
                digest=row[3],
                source_type=row[4],
                source=row[5],
                schema=row[6],
                profile=row[7],
            )
            datasets_of.setdefault(row[0], []).append(
                DatasetInput(dataset, input_tag_map.get((row[0], row[1]), []))
            )
    if has_models_in:
        for run_id, model_id in db.execute(_MODEL_INPUTS, bound).fetchall():
            models_in.setdefault(run_id, []).append(LoggedModelInput(model_id))
    if has_models_out:
        for run_id, model_id, step in db.execute(_MODEL_OUTPUTS, bound).fetchall():
            models_out.setdefault(run_id, []).append(LoggedModelOutput(model_id, step))
    inputs = {
        run_id: _new_inputs(datasets_of.get(run_id, []), models_in.get(run_id, []))
        for run_id in datasets_of.keys() | models_in.keys()
    }
    outputs = {run_id: _new_outputs(runs_out) for run_id, runs_out in models_out.items()}
    return inputs, outputs
