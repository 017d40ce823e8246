"""The search AST: what a filter string or an ``order_by`` list means, as frozen dataclasses.

A filter is a flat conjunction (MLflow has no ``OR`` and no grouping), so it is simply a tuple of
:class:`Comparison`. Keys are canonical: aliases (``created``, ``Run Name``, ``metric.``) are
resolved by the parser, so evaluators and compilers see one spelling per field.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Union


class Kind(str, Enum):
    """What an identifier names: ``metrics.acc`` is (METRIC, "acc")."""

    ATTRIBUTE = "attribute"
    METRIC = "metric"
    PARAM = "param"
    TAG = "tag"
    DATASET = "dataset"
    # Traces only.
    METADATA = "metadata"
    SPAN = "span"
    FEEDBACK = "feedback"
    EXPECTATION = "expectation"
    ISSUE = "issue"


class Op(str, Enum):
    """A comparator, spelled as in a filter string (upper case)."""

    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    LIKE = "LIKE"
    ILIKE = "ILIKE"
    RLIKE = "RLIKE"
    IN = "IN"
    NOT_IN = "NOT IN"
    IS_NULL = "IS NULL"
    IS_NOT_NULL = "IS NOT NULL"


NUMERIC_OPS = frozenset({Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE})
LIST_OPS = frozenset({Op.IN, Op.NOT_IN})
NULL_OPS = frozenset({Op.IS_NULL, Op.IS_NOT_NULL})

# None only with IS [NOT] NULL; a tuple only with [NOT] IN; int only for integer literals on
# attributes that keep them (timestamps), float for every other number.
Value = Union[str, int, float, tuple[str, ...], None]  # noqa: UP007 (a runtime alias on 3.10)


@dataclass(frozen=True, slots=True)
class Identifier:
    """A field of the searched entity: ``kind`` and its canonical ``key``."""

    kind: Kind
    key: str

    def __str__(self) -> str:
        return f"{self.kind.value}.{self.key}"


@dataclass(frozen=True, slots=True)
class Comparison:
    """``identifier op value``; ``position`` is where it starts in the filter string."""

    identifier: Identifier
    op: Op
    value: Value
    position: int = 0


@dataclass(frozen=True, slots=True)
class OrderBy:
    """One ``order_by`` element: a field and its direction."""

    identifier: Identifier
    ascending: bool = True


Filter = tuple[Comparison, ...]
