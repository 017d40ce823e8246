"""search_logged_models over SQL: experiments, filter, dataset scoping, order and pages."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from tracklet import validation
from tracklet.entities import LifecycleStage, LoggedModel, PagedList
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.store.sql import logged_models as model_queries
from tracklet.store.sql.compiled import Db
from tracklet.store.sql.schema import logged_models

DEFAULT_MAX_RESULTS = 100


def _invalid(message: str) -> MlflowException:
    return MlflowException(message, INVALID_PARAMETER_VALUE)


def _decode_token(token: str | None, fingerprint: dict[str, object]) -> int:
    if not token:
        return 0
    try:
        payload = json.loads(base64.b64decode(token, validate=True))
        offset = payload["offset"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(offset)
    except Exception:
        raise _invalid(f"Invalid page token {token!r}: could not decode it.") from None
    if payload.get("query") != fingerprint:
        raise _invalid(
            "The page token was issued for a different search (experiment_ids, filter_string, "
            "datasets or order_by differ)."
        )
    return offset


def _encode_token(offset: int, fingerprint: dict[str, object]) -> str:
    return base64.b64encode(json.dumps({"offset": offset, "query": fingerprint}).encode()).decode()


def search_logged_models(
    db: Db,
    experiment_ids: Sequence[str],
    filter_string: str | None,
    datasets: Sequence[Mapping[str, str | None]] | None,
    max_results: int | None,
    order_by: Sequence[Mapping[str, object]] | None,
    page_token: str | None,
) -> PagedList[LoggedModel]:
    if not experiment_ids:
        raise _invalid("Missing value for required parameter 'experiment_ids'.")
    limit = validation.validate_max_results(
        DEFAULT_MAX_RESULTS if max_results is None else max_results
    )
    ids = [validation.parse_experiment_id(e) for e in experiment_ids]
    fingerprint: dict[str, object] = {
        "experiment_ids": [str(i) for i in ids],
        "filter": filter_string or "",
        "datasets": [dict(d) for d in datasets or []],
        "order_by": [dict(o) for o in order_by or []],
    }
    offset = _decode_token(page_token, fingerprint)
    if filter_string or datasets or order_by:
        raise _invalid("Logged model filters arrive with the search language")
    c = logged_models.c
    rows = db.execute_core(
        sa.select(*model_queries.COLUMNS)
        .where(c.experiment_id.in_(ids), c.lifecycle_stage == LifecycleStage.ACTIVE)
        .order_by(c.creation_timestamp.desc(), c.model_id.asc())
        .offset(offset)
        .limit(limit + 1)
    ).fetchall()
    token = _encode_token(offset + limit, fingerprint) if len(rows) > limit else None
    return PagedList(model_queries.to_entities(db, rows[:limit]), token)
