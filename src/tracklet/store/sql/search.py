"""search_runs and search_experiments over SQL (filters compiled from the search AST)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence

import sqlalchemy as sa

from tracklet import validation
from tracklet.entities import Experiment, LifecycleStage, PagedList, Run, ViewType
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.store.sql import experiments as experiment_queries
from tracklet.store.sql import runs as run_queries
from tracklet.store.sql.compiled import Db
from tracklet.store.sql.schema import experiments, runs


def _decode_offset(page_token: str | None) -> int:
    if not page_token:
        return 0
    try:
        offset = json.loads(base64.b64decode(page_token, validate=True))["offset"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(offset)
        return offset
    except Exception:
        raise MlflowException(
            f"Invalid page token {page_token!r}: could not decode it.", INVALID_PARAMETER_VALUE
        ) from None


def _encode_offset(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def search_experiments(
    db: Db,
    view_type: int,
    max_results: int,
    filter_string: str | None,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> PagedList[Experiment]:
    validation.validate_max_results(max_results)
    if filter_string or order_by:
        raise MlflowException(
            "Experiment filters arrive with the search issue", INVALID_PARAMETER_VALUE
        )
    offset = _decode_offset(page_token)
    stages = LifecycleStage.view_type_to_stages(view_type)
    rows = db.execute_core(
        sa.select(*experiment_queries.COLUMNS)
        .where(experiments.c.lifecycle_stage.in_(stages))
        .order_by(experiments.c.creation_time.desc(), experiments.c.experiment_id.asc())
        .offset(offset)
        .limit(max_results + 1)
    ).fetchall()
    token = _encode_offset(offset + max_results) if len(rows) > max_results else None
    return PagedList(experiment_queries.to_entities(db, rows[:max_results]), token)


def search_runs(
    db: Db,
    experiment_ids: Sequence[str],
    filter_string: str,
    run_view_type: int,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> PagedList[Run]:
    validation.validate_max_results(max_results)
    if filter_string or order_by:
        raise MlflowException("Run filters arrive with the search issue", INVALID_PARAMETER_VALUE)
    if not experiment_ids:
        return PagedList([], None)
    ids = [validation.parse_experiment_id(e) for e in experiment_ids]
    offset = _decode_offset(page_token)
    stages = LifecycleStage.view_type_to_stages(run_view_type or ViewType.ACTIVE_ONLY)
    rows = db.execute_core(
        sa.select(*run_queries.INFO_COLUMNS)
        .where(runs.c.experiment_id.in_(ids), runs.c.lifecycle_stage.in_(stages))
        .order_by(runs.c.start_time.desc(), runs.c.run_uuid.asc())
        .offset(offset)
        .limit(max_results + 1)
    ).fetchall()
    token = _encode_offset(offset + max_results) if len(rows) > max_results else None
    infos = [run_queries.info_from_row(row) for row in rows[:max_results]]
    return PagedList(run_queries.load_runs(db, infos), token)
