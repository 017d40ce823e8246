"""Core statements compiled once per dialect, run on a DB-API connection.

Executing a Core statement through a SQLAlchemy Connection costs 100-300 µs of Python per call
on this class of machine; a synchronous ``log_metric`` or a whole run lifecycle has a budget of
a few times that, most of it taken by commits. So every statement tracklet runs is written as
SQLAlchemy Core (one schema, SQLite and PostgreSQL alike), compiled to SQL text once per
dialect with *named* parameters, and executed on the DB-API cursor with a dict of values.

``IN`` lists use an expanding bind parameter; the compiled text is widened per call by a string
replacement, not a recompilation.
"""

from __future__ import annotations

import re
import sys
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException

Params = Mapping[str, Any] | Sequence[Any]  # named binds, or positional ones


def insert_for(dialect_name: str) -> Any:
    """The dialect's INSERT, which has ``on_conflict_do_update`` / ``_do_nothing``."""
    if dialect_name == "sqlite":
        return sqlite.insert
    from sqlalchemy.dialects import postgresql  # ~0.1 s to import: only PostgreSQL stores pay

    return postgresql.insert


@cache
def _dialect_for(dialect_name: str) -> Dialect:
    if dialect_name == "sqlite":
        return sqlite.dialect(paramstyle="named")
    from sqlalchemy.dialects.postgresql import psycopg

    return psycopg.dialect()  # type: ignore[no-untyped-call]


class Compiled:
    """A statement built by ``build(dialect_name)`` and compiled on first use per dialect."""

    def __init__(
        self,
        build: Callable[[str], ClauseElement],
        dialects: tuple[str, ...] = ("sqlite", "postgresql"),
        binary: bool = False,
    ) -> None:
        self._build = build
        self.dialects = dialects  # a statement written for one dialect (arrays, say) names it
        # PostgreSQL: every parameter sent in binary (``%(name)b``): psycopg dumps an array of
        # a thousand bytea or float values as text with a regex substitution per value.
        self._binary = binary
        self._text: dict[str, str] = {}

    def text(self, dialect_name: str) -> str:
        text = self._text.get(dialect_name)
        if text is None:
            if dialect_name not in self.dialects:
                raise ValueError(
                    f"this statement is written for {self.dialects}, not {dialect_name}"
                )
            statement = self._build(dialect_name)
            compiled = statement.compile(dialect=_dialect_for(dialect_name))
            constants = [b.key for b in compiled.binds.values() if b.value is not None]  # type: ignore[attr-defined]
            if constants:
                # A Python constant in the statement became a bound parameter whose value the
                # caller would never pass; write it with literal() instead.
                raise TypeError(f"constant bound parameters {constants} in {compiled}")
            text = str(compiled)
            if self._binary and dialect_name == "postgresql":
                text = _BINARY_PARAM.sub(r"%(\1)b", text)
            self._text[dialect_name] = text
        return text


_BINARY_PARAM = re.compile(r"%\((\w+)\)s")


def stmt(build: Callable[[], ClauseElement]) -> Compiled:
    """A dialect-independent statement."""
    return Compiled(lambda _name: build())


def _expand(text: str, dialect_name: str, name: str, count: int) -> tuple[str, list[str]]:
    names = [f"{name}_{i}" for i in range(count)]
    if dialect_name == "sqlite":
        placeholders = ", ".join(f":{n}" for n in names)
    else:
        placeholders = ", ".join(f"%({n})s" for n in names)
    if count == 0:
        placeholders = "NULL"  # IN (NULL) matches nothing
    return text.replace(f"__[POSTCOMPILE_{name}]", placeholders), names


_CORE_CACHE: dict[tuple[str, Any], SQLCompiler] = {}
_CORE_CACHE_SIZE = 500  # shapes; search statements vary with filter and order, not values


def _compile_cached(statement: ClauseElement, dialect_name: str) -> tuple[str, dict[str, Any]]:
    """The SQL text and parameters of ``statement``, from a compilation cached by shape."""
    dialect = _dialect_for(dialect_name)
    cache_key = statement._generate_cache_key()
    if cache_key is None:  # a construct SQLAlchemy cannot key: compile it afresh
        once = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        return str(once), dict(once.params)
    shape = (dialect_name, cache_key.key)
    compiled = _CORE_CACHE.get(shape)
    if compiled is None:
        if len(_CORE_CACHE) >= _CORE_CACHE_SIZE:
            _CORE_CACHE.clear()
        compiled = _CORE_CACHE[shape] = dialect.statement_compiler(
            dialect, statement, cache_key=cache_key
        )
    bound = dict(compiled.construct_params(extracted_parameters=cache_key.bindparams) or {})
    text: str = compiled.string
    for parameter in compiled.post_compile_params:
        name = compiled.bind_names[parameter]
        values = bound.pop(name)
        text, names = _expand(text, dialect_name, name, len(values))
        bound.update(zip(names, values, strict=True))
    return text, bound


def refused_value(error: Exception) -> MlflowException | None:
    """The 400 for a value the database cannot store, or None for any other failure.

    Values are validated before they reach the database, but a few limits are the database's
    own: text must encode as UTF-8 (a lone surrogate cannot), PostgreSQL text cannot hold NUL,
    and PostgreSQL enforces column lengths that SQLite ignores. Such a statement fails before
    anything is written (a transaction is rolled back), so the caller gets a 400, not a 500.
    """
    if isinstance(error, UnicodeEncodeError):
        bad = error.object[error.start : error.start + 1]
        return MlflowException(
            f"Invalid value: a string holds {bad!r}, a lone surrogate, which is not a Unicode "
            "character and cannot be stored.",
            INVALID_PARAMETER_VALUE,
        )
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None and isinstance(error, psycopg.DataError):
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        return MlflowException(
            f"Invalid value: the database refused it ({detail}).", INVALID_PARAMETER_VALUE
        )
    return None


def _raise_refused(error: Exception) -> None:
    refused = refused_value(error)
    if refused is not None:
        raise refused from error


# Cursors kept per DB-API connection (see Db.execute_kept), by statement (module-level
# Compiled objects, never freed); gone with their connection.
_KEPT_CURSORS: weakref.WeakKeyDictionary[Any, dict[int, Any]] = weakref.WeakKeyDictionary()


class Db:
    """One DB-API connection and its dialect: run compiled statements with dict parameters.

    A value the database cannot store is a 400 (:func:`refused_value`), whichever call runs it.
    """

    __slots__ = ("dbapi", "dialect_name")

    def __init__(self, dbapi: Any, dialect_name: str) -> None:
        self.dbapi = dbapi
        self.dialect_name = dialect_name

    def execute(self, statement: Compiled, params: Params | None = None) -> Any:
        cursor = self.dbapi.cursor()
        try:
            cursor.execute(statement.text(self.dialect_name), params or {})
        except Exception as error:
            _raise_refused(error)
            raise
        return cursor

    def execute_kept(self, statement: Compiled, params: Params) -> Any:
        """``execute`` on a cursor kept with the connection for this statement: psycopg reuses
        a cursor's adapters (their caches, the query's conversion) when it runs the same query
        again, where a new cursor starts afresh (~25 us of a write's ten array parameters).
        Its rows are valid until the statement next runs on this connection; not closed by
        the caller."""
        kept: dict[int, Any] | None = _KEPT_CURSORS.get(self.dbapi)
        if kept is None:
            kept = _KEPT_CURSORS[self.dbapi] = {}
        cursor = kept.get(id(statement))
        if cursor is None or cursor.closed:
            cursor = kept[id(statement)] = self.dbapi.cursor()
        try:
            cursor.execute(statement.text(self.dialect_name), params)
        except Exception as error:
            _raise_refused(error)
            raise
        return cursor

    def execute_in(
        self, statement: Compiled, name: str, values: Sequence[Any], params: Params | None = None
    ) -> Any:
        """Execute with the expanding parameter ``name`` bound to ``values``."""
        text, names = _expand(
            statement.text(self.dialect_name), self.dialect_name, name, len(values)
        )
        bound = dict(params or {})
        bound.update(zip(names, values, strict=True))
        cursor = self.dbapi.cursor()
        try:
            cursor.execute(text, bound)
        except Exception as error:
            _raise_refused(error)
            raise
        return cursor

    def execute_core(self, statement: ClauseElement) -> Any:
        """Run a statement built at call time (search queries, say), compiled once per shape.

        Every page of a scan builds the same statement with other values; compiling it costs
        0.4-0.6 ms. SQLAlchemy's cache key names the shape and carries this statement's
        values, which the cached compilation binds (IN lists widened as in ``execute_in``).
        """
        text, bound = _compile_cached(statement, self.dialect_name)
        cursor = self.dbapi.cursor()
        try:
            if self.dialect_name == "postgresql":
                # Never prepared: psycopg prepares a statement run five times, and PostgreSQL
                # may then plan it once for any values, where ``metrics.acc > 0.99`` and
                # ``> 0.01`` want different plans.
                cursor.execute(text, bound, prepare=False)
            else:
                cursor.execute(text, bound)
        except Exception as error:
            _raise_refused(error)
            raise
        return cursor

    def executemany(self, statement: Compiled, rows: Iterable[Params]) -> None:
        rows = list(rows)
        if rows:
            try:
                self.dbapi.cursor().executemany(statement.text(self.dialect_name), rows)
            except Exception as error:
                _raise_refused(error)
                raise

    def one(self, statement: Compiled, params: Params | None = None) -> Any:
        return self.execute(statement, params).fetchone()

    def scalar(self, statement: Compiled, params: Params | None = None) -> Any:
        row = self.execute(statement, params).fetchone()
        return None if row is None else row[0]

    def all(self, statement: Compiled, params: Params | None = None) -> list[Any]:
        return list(self.execute(statement, params).fetchall())

    def rowcount(self, statement: Compiled, params: Params | None = None) -> int:
        return int(self.execute(statement, params).rowcount)


def bp(name: str, type_: Any = None) -> Any:
    """A named bind parameter (its value comes from the dict passed at execution)."""
    return sa.bindparam(name, type_=type_)


def expanding(name: str) -> Any:
    return sa.bindparam(name, expanding=True)


def literal(sql: str) -> Any:
    """A constant in the SQL text, so it needs no parameter value."""
    return sa.literal_column(sql)
