"""Keyset paging in SQL: ordering terms, "rows after this key" and pages read in segments.

Shared by every SQL search (runs, experiments, the model registry). Ordering puts missing values
last in both directions and a NaN metric (stored as NULL) between real values and missing ones,
through a rank per term. The next page is the rows after the last row's (rank, value) per term;
when the leading term can be NULL the search runs in two segments, non-NULL rows in value order
and then the NULL ones, so each segment's ORDER BY is a plain index order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tracklet.search import page_token as tokens
from tracklet.store.sql.compiled import Db, literal


@dataclass(frozen=True, slots=True)
class Term:
    """One ordering term in SQL.

    ``nulls`` says what NULL means: 0 the value is never NULL; 1 NULL (or a missing row) is
    rank 1; 2 a metric, where NULL with a row is NaN (rank 1) and no row is rank 2.
    """

    value: Any
    ascending: bool
    nulls: int
    type: type
    missing: Any = None  # nulls == 2: true when the run has no row for the key
    collate: bool = False  # a string: ordered by code point ("C") on PostgreSQL

    def rank(self) -> Any:
        if self.nulls == 2:
            return sa.case(
                (self.missing, literal("2")),
                (self.value.is_(None), literal("1")),
                else_=literal("0"),
            )
        return sa.case((self.value.is_(None), literal("1")), else_=literal("0"))

    def not_null(self) -> Term:
        return Term(self.value, self.ascending, 0, self.type, collate=self.collate)

    def selected(self) -> list[Any]:
        return [self.value, self.missing] if self.nulls == 2 else [self.value]

    def row_key(self, values: Sequence[Any]) -> tuple[int, Any]:
        value = values[0]
        if self.nulls == 2 and values[1]:
            return 2, None
        return (1, None) if value is None else (0, value)


def _sorted_by(term: Term, dialect_name: str) -> Any:
    if term.collate and dialect_name == "postgresql":
        return term.value.collate("C")
    return term.value


def _order_by(terms: Sequence[Term], dialect_name: str) -> list[Any]:
    clauses: list[Any] = []
    for term in terms:
        if term.nulls:
            clauses.append(term.rank())
        value = _sorted_by(term, dialect_name)
        clauses.append(value.asc() if term.ascending else value.desc())
    return clauses


def _after(term: Term, rank: int, value: Any, dialect_name: str) -> Any:
    """Rows later than (rank, value) on this term alone."""
    if rank == 0:
        column = _sorted_by(term, dialect_name)
        strictly = column > value if term.ascending else column < value
        return sa.or_(strictly, term.value.is_(None)) if term.nulls else strictly
    if rank == 1 and term.nulls == 2:
        return term.missing
    return sa.false()


def _same(term: Term, rank: int, value: Any) -> Any:
    """Rows equal to (rank, value) on this term."""
    if rank == 0:
        return term.value == value
    if rank == 1:
        return (
            sa.and_(term.value.is_(None), ~term.missing)
            if term.nulls == 2
            else term.value.is_(None)
        )
    return term.missing


def _keyset(terms: Sequence[Term], key: Sequence[tuple[int, Any]], dialect_name: str) -> Any:
    """Rows after ``key`` in the order of ``terms``: a lexicographic comparison, led by a bound
    on the first term that an index range scan can use."""
    alternatives = []
    for i, term in enumerate(terms):
        equal = [_same(t, r, v) for t, (r, v) in zip(terms[:i], key[:i], strict=True)]
        alternatives.append(sa.and_(*equal, _after(term, *key[i], dialect_name)))
    condition = sa.or_(*alternatives)
    lead, (rank, value) = terms[0], key[0]
    if rank == 0 and not lead.nulls:
        column = _sorted_by(lead, dialect_name)
        bound = column >= value if lead.ascending else column <= value
        condition = sa.and_(bound, condition)
    return condition


@dataclass(frozen=True, slots=True)
class _Segment:
    """A part of the result in which the leading term is all NULL or all non-NULL."""

    where: list[Any]
    terms: list[Term]
    key: list[tuple[int, Any]] | None  # where this segment resumes; None: from its start


def _segments(terms: Sequence[Term], key: Sequence[tuple[int, Any]] | None) -> list[_Segment]:
    lead, rest = terms[0], list(terms[1:])
    if not lead.nulls:
        return [_Segment([], list(terms), list(key) if key else None)]
    segments = []
    lead_rank = key[0][0] if key else 0
    if lead_rank == 0:
        segments.append(
            _Segment([lead.value.isnot(None)], [lead.not_null(), *rest], list(key) if key else None)
        )
    # NULL leads: NaN metrics, then rows without the key; one rank, so order by the rest.
    null_terms = rest
    null_key = list(key[1:]) if key and lead_rank else None
    if lead.nulls == 2:
        null_terms = [Term(lead.rank(), True, 0, int), *rest]
        null_key = [(0, lead_rank), *key[1:]] if key and lead_rank else None
    segments.append(_Segment([lead.value.is_(None)], null_terms, null_key))
    return segments


def fetch(
    db: Db,
    select: Callable[[], Any],
    terms: Sequence[Term],
    key: Sequence[tuple[int, Any]] | None,
    limit: int,
) -> list[Any]:
    """Up to ``limit`` rows after ``key``, segment by segment."""
    rows: list[Any] = []
    for segment in _segments(terms, key):
        query = select().where(*segment.where).order_by(*_order_by(segment.terms, db.dialect_name))
        if segment.key is not None:
            query = query.where(_keyset(segment.terms, segment.key, db.dialect_name))
        rows.extend(db.execute_core(query.limit(limit - len(rows))).fetchall())
        if len(rows) >= limit:
            break
    return rows


def selection(leading: Sequence[Any], terms: Sequence[Term]) -> tuple[list[Any], list[list[int]]]:
    """The columns a page selects: ``leading``, then what the order terms read beyond them (a
    term on one of ``leading`` reads it there: a thousand-run page does not fetch its start
    times twice); and where each term's values sit in a row."""
    selected = list(leading)
    positions = []
    for term in terms:
        at = []
        for column in term.selected():
            # Identity, not ==: SQLAlchemy columns compare into SQL expressions.
            found = next((i for i, c in enumerate(leading) if c is column), None)
            if found is None:
                found = len(selected)
                selected.append(column)
            at.append(found)
        positions.append(at)
    return selected, positions


def row_key(
    terms: Sequence[Term], row: Sequence[Any], positions: Sequence[Sequence[int]]
) -> tokens.SortKey:
    return [term.row_key([row[i] for i in at]) for term, at in zip(terms, positions, strict=True)]
