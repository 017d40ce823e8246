"""Reading whole runs in bulk: params, tags, latest metrics, inputs and outputs of many runs.

A search page builds thousands of runs. An ended run's params, tags and latest metrics come
from its pack (a column of its row, see ``run_packs``); the others' from the rows of their
parts (about 15 a run), each part read for all of them in one statement, in primary-key order
(run, key: an index walk with no sort, each run's keys in key order), and gathered into
per-run dicts in tight loops. The ids go in as one parameter (a JSON array read by
``json_each`` on SQLite, an array on PostgreSQL) instead of an ``IN`` list of a thousand bound
names. Dataset inputs and logged-model inputs and outputs are read only when their tables have
rows at all.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

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
from tracklet.entities.metric import LatestMetrics, new_metric
from tracklet.store.run_columns import INFO, NAN, RunColumns, place
from tracklet.store.sql import run_pack_codec
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


def _by_position(table: sa.Table, *columns: str, order_by: Sequence[str] = ("key",)) -> Compiled:
    """``SELECT <run>, columns FROM table`` for the runs bound to ``ids`` (see ``ids_param``),
    ordered by run and then ``order_by``.

    SQLite: <run> is the run's index in ``ids``, joined from ``json_each`` (a third faster than
    ``IN`` on the ids: small integers instead of run ids, a loop in page order). PostgreSQL:
    <run> is the run id, ``= ANY(ids)`` (its planner hashes the whole table for the join);
    ``rows_by_position`` turns it into the index and puts the rows in page order.
    """

    def build(dialect_name: str) -> Any:
        selected = [table.c[c] for c in columns]
        ordered = [table.c[c] for c in order_by]
        if dialect_name == "postgresql":
            return (
                sa.select(table.c.run_uuid, *selected)
                .where(table.c.run_uuid == sa.any_(bp("ids", _id_array())))
                .order_by(table.c.run_uuid, *ordered)
            )
        ids = sa.func.json_each(bp("ids")).table_valued("key", "value").alias("ids")
        return (
            sa.select(ids.c.key, *selected)
            .select_from(ids.join(table, table.c.run_uuid == ids.c.value))
            .order_by(ids.c.key, *ordered)
        )

    return Compiled(build)


def ids_param(db: Db, ids: Sequence[str]) -> dict[str, Any]:
    """The parameters of a statement built with ``_by_position``."""
    return {"ids": list(ids) if db.dialect_name == "postgresql" else json.dumps(list(ids))}


def rows_by_position(
    db: Db, statement: Compiled, bound: dict[str, Any], ids: Sequence[str]
) -> list[Any]:
    """The rows of a ``_by_position`` statement, each led by its run's index in ``ids``."""
    rows = db.execute(statement, bound).fetchall()
    if db.dialect_name != "postgresql":
        return rows  # type: ignore[no-any-return]
    position = {run_id: i for i, run_id in enumerate(ids)}
    by_position = [(position[row[0]], *row[1:]) for row in rows]
    by_position.sort(key=itemgetter(0))  # stable: each run's rows stay in their order
    return by_position


PARAMS = _by_position(params, "key", "value")
TAGS = _by_position(tags, "key", "value")
# The value is NULL exactly when it is NaN (see schema), so is_nan need not be read.
LATEST = _by_position(latest_metrics, "key", "value", "timestamp", "step")
LATEST_VALUES = _by_position(latest_metrics, "key", "value")


def _id_array() -> Any:
    # Imported here: the PostgreSQL dialect costs ~50 ms of start-up that SQLite processes
    # (eight starting at once, say) need not pay (see compiled).
    from sqlalchemy.dialects import postgresql

    return postgresql.ARRAY(sa.String)


# The rarer parts (dataset and model inputs, model outputs), read only when their tables have
# rows, by run id.
def _in_ids(column: Any, dialect_name: str) -> Any:
    """``column`` is one of the ids bound to the parameter ``ids`` (see ``ids_param``)."""
    if dialect_name == "postgresql":
        return column == sa.any_(bp("ids", _id_array()))
    return column.in_(sa.select(sa.func.json_each(bp("ids")).table_valued("value").c.value))


def _by_ids(table: sa.Table, *columns: str, order_by: Sequence[str]) -> Compiled:
    def build(dialect_name: str) -> Any:
        return (
            sa.select(*(table.c[c] for c in columns))
            .where(_in_ids(table.c.run_uuid, dialect_name))
            .order_by(*(table.c[c] for c in order_by))
        )

    return Compiled(build)


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
_decode = run_pack_codec.decode


def _unpacked(ids: Sequence[str], packs: Sequence[str | None]) -> tuple[list[int], list[str]]:
    """The positions and ids of the runs without a pack."""
    positions = [i for i, pack in enumerate(packs) if pack is None]
    return positions, [ids[i] for i in positions]


def load_runs(db: Db, infos: Sequence[RunInfo], packs: Sequence[str | None]) -> list[Run]:
    """Whole runs (data, inputs, outputs) for these infos and the runs' packs (read with the
    infos; None for a run without one), in a fixed number of queries."""
    if not infos:
        return []
    ids = [info.run_id for info in infos]
    data_at: list[RunData | None] = [None] * len(ids)
    positions, unpacked = _unpacked(ids, packs)
    if unpacked:
        for at, data in zip(positions, _data_from_parts(db, unpacked), strict=True):
            data_at[at] = data
    has_datasets, has_models_in, has_models_out = db.one(_ANY_INPUTS_OUTPUTS)
    inputs_of: dict[str, RunInputs] = {}
    outputs_of: dict[str, RunOutputs] = {}
    if has_datasets or has_models_in or has_models_out:
        bound = ids_param(db, ids)
        inputs_of, outputs_of = _inputs_outputs(
            db, bound, bool(has_datasets), bool(has_models_in), bool(has_models_out)
        )
    new_data, new_run, new_inputs, new_outputs = _new_data, _new_run, _new_inputs, _new_outputs
    decode, latest = _decode, LatestMetrics
    any_inputs, any_outputs = bool(inputs_of), bool(outputs_of)
    result = []
    for info, pack, from_parts in zip(infos, packs, data_at, strict=True):
        if pack is None:
            assert from_parts is not None
            data = from_parts
        else:
            run_params, run_tags, metrics, points = decode(pack)
            metric_objs = latest(tuple(metrics), tuple(metrics.values()), points)
            data = new_data(metrics, run_params, run_tags, metric_objs)
        inputs = (any_inputs and inputs_of.get(info.run_id)) or new_inputs([], [])
        outputs = (any_outputs and outputs_of.get(info.run_id)) or new_outputs([])
        result.append(new_run(info, data, inputs, outputs))
    return result


def _data_from_parts(db: Db, ids: Sequence[str]) -> list[RunData]:
    """The RunData of these runs, from the rows of their params, tags and latest metrics."""
    bound = ids_param(db, ids)
    params_at = gather(rows_by_position(db, PARAMS, bound, ids), len(ids))
    tags_at = gather(rows_by_position(db, TAGS, bound, ids), len(ids))
    metrics_at = _gather_metrics(rows_by_position(db, LATEST, bound, ids), len(ids))
    no_metrics: tuple[Metric, ...] = ()
    result = []
    for run_params, run_tags, metric_list in zip(params_at, tags_at, metrics_at, strict=True):
        if metric_list is None:
            metrics: dict[str, float] = {}
            metric_objs = no_metrics
        else:
            metrics = {m.key: m.value for m in metric_list}
            metric_objs = tuple(metric_list)
        result.append(_new_data(metrics, run_params or {}, run_tags or {}, metric_objs))
    return result


def gather(rows: list[Any], n: int) -> list[dict[str, str] | None]:
    """(index, key, value) rows, grouped by index, as one ``{key: value}`` (or None) per run."""
    result: list[dict[str, str] | None] = [None] * n
    current = -1
    values: dict[str, str] = {}
    for at, key, value in rows:
        if at != current:
            current = at
            values = result[at] = {}
        values[key] = value
    return result


def _gather_metrics(rows: list[Any], n: int) -> list[list[Metric] | None]:
    """(index, key, value, timestamp, step) rows, grouped by index, as latest-metric lists."""
    nan = math.nan
    result: list[list[Metric] | None] = [None] * n
    current = -1
    metrics: list[Metric] = []
    for at, key, value, timestamp, step in rows:
        if at != current:
            current = at
            metrics = result[at] = []
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


def load_columns(
    db: Db, rows: Sequence[Any], packs: Sequence[str | None], token: str | None
) -> RunColumns:
    """Runs as columns, from search rows (``runs.INFO_COLUMNS`` first) and the runs' packs
    (None for a run without one), with no Run objects.

    Runs are placed in page order, each run's keys in key order, so a key's column is made (in
    order of first appearance, as RunColumns.from_runs makes them) when the key is first seen.
    """
    n = len(rows)
    if not n:
        return RunColumns(0, {name: [] for name in INFO}, {}, {}, {}, token)
    # Transposed at C speed; the columns of runs.INFO_COLUMNS used here are 0, 1, 4, 5, 6, 8.
    columns = list(zip(*rows, strict=True))
    run_id = list(columns[0])
    # RunInfo.experiment_id is a string; a page rarely spans more than a few experiments.
    as_text = {e: str(e) for e in set(columns[1])}
    info = {
        "run_id": run_id,
        "experiment_id": [as_text[e] for e in columns[1]],
        "status": list(columns[4]),
        "artifact_uri": list(columns[8]),
        "start_time": list(columns[5]),
        "end_time": list(columns[6]),
    }
    positions, unpacked = _unpacked(run_id, packs)
    parts_at: dict[int, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {}
    if unpacked:
        bound = ids_param(db, unpacked)
        m = len(unpacked)
        metrics_of = gather(rows_by_position(db, LATEST_VALUES, bound, unpacked), m)
        params_of = gather(rows_by_position(db, PARAMS, bound, unpacked), m)
        tags_of = gather(rows_by_position(db, TAGS, bound, unpacked), m)
        for at, run_metrics, run_params, run_tags in zip(
            positions, metrics_of, params_of, tags_of, strict=True
        ):
            # A NULL value is a logged NaN: math.nan, not NAN (RunColumns' mark of a missing one).
            values = {k: math.nan if v is None else v for k, v in (run_metrics or {}).items()}
            parts_at[at] = (values, run_params or {}, run_tags or {})
    metrics: dict[str, list[Any]] = {}
    params_columns: dict[str, list[Any]] = {}
    tags_columns: dict[str, list[Any]] = {}
    decode = _decode
    for at, pack in enumerate(packs):
        if pack is None:
            metric_values, param_values, tag_values = parts_at[at]
        else:
            param_values, tag_values, metric_values, _points = decode(pack)
        place(metrics, at, metric_values, n, NAN)
        place(params_columns, at, param_values, n, None)
        place(tags_columns, at, tag_values, n, None)
    return RunColumns(n, info, metrics, params_columns, tags_columns, token)
