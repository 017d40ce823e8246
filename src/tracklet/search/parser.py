"""``filter_string`` and ``order_by`` strings -> the search AST, for any entity's grammar.

Filter syntax (MLflow's)::

    filter     := comparison (AND comparison)*          -- AND is case-insensitive; no OR
    comparison := identifier op value | identifier [NOT] IN list | identifier IS [NOT] NULL
    identifier := [prefix "."] key                      -- split at the first dot
    value      := 'string' | "string" | number          -- number: -?digits[.digits][e±digits]
    list       := "(" string ("," string)* ")"

    order_by element := identifier [ASC | DESC]

Every malformed input raises :class:`MlflowException` (INVALID_PARAMETER_VALUE) whose message
names the position and the token; nothing else escapes.
"""

from __future__ import annotations

from collections.abc import Sequence

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.search.ast import (
    LIST_OPS,
    NULL_OPS,
    Comparison,
    Filter,
    Identifier,
    Kind,
    Op,
    OrderBy,
    Value,
)
from tracklet.search.grammar import Field, Grammar, Numbers
from tracklet.search.lexer import KEYWORDS, T, Token, tokenize
from tracklet.validation import INT64_MAX, INT64_MIN

_MAX_SHOWN = 300  # characters of the input quoted back in an error message
MAX_FILTER_KEYS = 32  # distinct keys (metrics.x, params.y, ...) one filter may compare

_STRING_TOKENS = frozenset({T.QUOTED, T.DQUOTED})
_PATH_PARTS = frozenset({T.WORD, T.BACKTICKED, T.DQUOTED, T.QUOTED})
_IDENTIFIER_STARTS = frozenset({T.WORD, T.BACKTICKED, T.DQUOTED})
_SIMPLE_OPS = {op.value: op for op in (Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE)}
_WORD_OPS = {"LIKE": Op.LIKE, "ILIKE": Op.ILIKE, "RLIKE": Op.RLIKE}


def parse_filter(filter_string: str | None, grammar: Grammar) -> Filter:
    """Parse a filter string into its comparisons (empty for None or blank).

    Args:
        filter_string: e.g. ``"metrics.acc > 0.5 and params.lr = '0.01'"``.
        grammar: the searched entity's grammar, e.g. ``grammar.RUNS``.

    Returns:
        The comparisons, in the order written.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE naming the position and token at fault.
    """
    if filter_string is None:
        return ()
    if not isinstance(filter_string, str):
        raise MlflowException(
            f"Invalid filter {filter_string!r}: expected a string", INVALID_PARAMETER_VALUE
        )
    if not filter_string.strip():
        return ()
    return _Parser(filter_string, grammar, "filter").filter()


def parse_order_by(order_by: Sequence[str] | None, grammar: Grammar) -> tuple[OrderBy, ...]:
    """Parse ``order_by`` elements such as ``"metrics.acc DESC"``.

    Args:
        order_by: the elements, most significant first; None means the default order.
        grammar: the searched entity's grammar.

    Returns:
        One OrderBy per element.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for a malformed element, a field the entity
            cannot be ordered by, or the same field twice.
    """
    if not order_by:
        return ()
    if isinstance(order_by, str):
        order_by = [order_by]
    parsed: list[OrderBy] = []
    for clause in order_by:
        if not isinstance(clause, str):
            raise MlflowException(
                f"Invalid order_by clause {clause!r}: expected a string", INVALID_PARAMETER_VALUE
            )
        parsed.append(_Parser(clause, grammar, "order_by clause").order_by())
    seen: set[Identifier] = set()
    for item in parsed:
        if item.identifier in seen:
            raise MlflowException(
                f"`order_by` contains duplicate fields: {list(order_by)} ({item.identifier} "
                "appears twice)",
                INVALID_PARAMETER_VALUE,
            )
        seen.add(item.identifier)
    return tuple(parsed)


class _Parser:
    """Recursive descent over one string's tokens."""

    def __init__(self, text: str, grammar: Grammar, what: str) -> None:
        self.text = text
        self.grammar = grammar
        self.what = what
        try:
            self.tokens = tokenize(text)
        except MlflowException as error:
            raise MlflowException(
                f"Invalid {what} {self._shown()}: {error.message}", INVALID_PARAMETER_VALUE
            ) from None
        self.i = 0

    # ------------------------------------------------------------------ helpers

    def _shown(self) -> str:
        if len(self.text) <= _MAX_SHOWN:
            return repr(self.text)
        return repr(self.text[:_MAX_SHOWN]) + "..."

    def error(self, headline: str, token: Token, hint: str = "") -> MlflowException:
        message = f"{headline} at position {token.pos} of {self.what} {self._shown()}"
        return MlflowException(message + (f". {hint}" if hint else ""), INVALID_PARAMETER_VALUE)

    def peek(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        if token.type is not T.END:
            self.i += 1
        return token

    def is_keyword(self, token: Token, *words: str) -> bool:
        return token.type is T.WORD and token.value in words

    # ------------------------------------------------------------------ grammar

    def filter(self) -> Filter:
        comparisons = [self.comparison()]
        while True:
            token = self.advance()
            if token.type is T.END:
                self.check_keys(comparisons)
                return tuple(comparisons)
            if self.is_keyword(token, "AND"):
                comparisons.append(self.comparison())
            elif self.is_keyword(token, "OR"):
                raise self.error(
                    f"Invalid clause(s) in filter string: '{token.text}'",
                    token,
                    "Comparisons can only be joined by AND",
                )
            else:
                raise self.error(
                    f"Expected AND or the end of the filter, found {token.describe()}", token
                )

    def check_keys(self, comparisons: Sequence[Comparison]) -> None:
        # Each key is a join (SQLite allows 64 tables; PostgreSQL's planner took a minute over
        # 200): bounded well above any real filter.
        keys = {c.identifier for c in comparisons if c.identifier.kind is not Kind.ATTRIBUTE}
        if len(keys) > MAX_FILTER_KEYS:
            raise MlflowException(
                f"Invalid {self.what} {self._shown()}: it compares {len(keys)} distinct "
                f"metrics, params, tags or other keys; at most {MAX_FILTER_KEYS} are allowed.",
                INVALID_PARAMETER_VALUE,
            )

    def order_by(self) -> OrderBy:
        start = self.peek()
        kind, key = self.path()
        identifier = self.order_identifier(kind, key, start)
        ascending = True
        token = self.advance()
        if self.is_keyword(token, "ASC", "DESC"):
            ascending = token.value == "ASC"
            token = self.advance()
        if token.type is not T.END:
            raise self.error(
                f"Expected ASC, DESC or the end of the clause, found {token.describe()}", token
            )
        return OrderBy(identifier, ascending)

    def path(self) -> tuple[Kind, str]:
        """An identifier: its kind (from the prefix) and raw key."""
        start = self.advance()
        if start.type not in _IDENTIFIER_STARTS or (
            start.type is T.WORD and start.value in KEYWORDS
        ):
            raise self.error(f"Expected an identifier, found {start.describe()}", start)
        parts = [start.value]
        while self.peek().type is T.DOT:
            dot = self.advance()
            part = self.advance()
            if part.type not in _PATH_PARTS or part.pos != dot.end:
                raise self.error(f"Expected a key after '.', found {part.describe()}", part)
            parts.append(part.value)
        if len(parts) == 1:
            return Kind.ATTRIBUTE, parts[0]
        prefix = parts[0]
        kind = self.grammar.prefixes.get(prefix)
        if kind is None:
            valid = sorted(set(self.grammar.prefixes))
            raise self.error(f"Invalid entity type '{prefix}'", start, f"Valid values are {valid}")
        key = ".".join(parts[1:])
        if not key:
            raise self.error(f"Expected a key after '{prefix}.'", start)
        return kind, key

    def field(self, kind: Kind, key: str, token: Token) -> tuple[Identifier, Field]:
        grammar = self.grammar
        if kind is Kind.ATTRIBUTE:
            found = grammar.attributes.get(key)
            if found is None:
                valid = sorted({canonical for canonical, _ in grammar.attributes.values()})
                raise self.error(
                    f"Invalid attribute key '{key}' specified", token, f"Valid keys are {valid}"
                )
            return Identifier(kind, found[0]), found[1]
        if kind in grammar.keyed:
            spec = grammar.keyed_field(kind, key)
            if spec is None:
                valid = sorted(grammar.keyed[kind])
                raise self.error(
                    f"Invalid {kind.value} key '{key}' specified", token, f"Valid keys are {valid}"
                )
            return Identifier(kind, key), spec
        return Identifier(kind, key), grammar.kinds[kind]

    def order_identifier(self, kind: Kind, key: str, token: Token) -> Identifier:
        grammar = self.grammar
        if kind not in grammar.order_kinds:
            raise self.error(f"Invalid order_by entity: {kind.value}", token)
        if kind is Kind.ATTRIBUTE:
            canonical = grammar.order_attributes.get(key)
            if canonical is None:
                valid = sorted(set(grammar.order_attributes.values()))
                raise self.error(
                    f"Invalid attribute key '{key}' specified for order_by",
                    token,
                    f"Valid keys are {valid}",
                )
            return Identifier(kind, canonical)
        return Identifier(kind, key)

    def comparison(self) -> Comparison:
        start = self.peek()
        kind, key = self.path()
        identifier, spec = self.field(kind, key, start)
        op_token = self.peek()
        op = self.operator()
        if op not in spec.ops:
            raise self.error(
                f"Invalid comparator '{op.value}' for {spec.label}",
                op_token,
                f"Valid comparators are {sorted(o.value for o in spec.ops)}",
            )
        if op in NULL_OPS:
            return Comparison(identifier, op, None, start.pos)
        if op in LIST_OPS:
            return Comparison(identifier, op, self.string_list(spec.integer_strings), start.pos)
        value_token = self.advance()
        value = self.value(value_token, op, spec)
        return Comparison(identifier, op, value, start.pos)

    def operator(self) -> Op:
        token = self.advance()
        if token.type is T.OP and token.value in _SIMPLE_OPS:
            return _SIMPLE_OPS[token.value]
        if token.type is T.WORD:
            if token.value in _WORD_OPS:
                return _WORD_OPS[token.value]
            if token.value == "IN":
                return Op.IN
            if token.value == "NOT":
                following = self.advance()
                if self.is_keyword(following, "IN"):
                    return Op.NOT_IN
                raise self.error(f"Expected IN after NOT, found {following.describe()}", following)
            if token.value == "IS":
                following = self.advance()
                if self.is_keyword(following, "NULL"):
                    return Op.IS_NULL
                if self.is_keyword(following, "NOT") and self.is_keyword(self.advance(), "NULL"):
                    return Op.IS_NOT_NULL
                raise self.error(
                    "Expected NULL or NOT NULL after IS", self.tokens[max(self.i - 1, 0)]
                )
        raise self.error(f"Expected a comparison operator, found {token.describe()}", token)

    def string_list(self, integer_strings: bool) -> tuple[str, ...]:
        opening = self.advance()
        if opening.type is not T.LPAREN:
            raise self.error(
                f"Expected a parenthesised list of quoted strings, found {opening.describe()}",
                opening,
            )
        items: list[str] = []
        while True:
            item = self.advance()
            if item.type not in _STRING_TOKENS:
                raise self.error(
                    f"Expected a quoted string in the list, found {item.describe()}", item
                )
            items.append(self.integer_string(item) if integer_strings else item.value)
            separator = self.advance()
            if separator.type is T.RPAREN:
                return tuple(items)
            if separator.type is not T.COMMA:
                raise self.error(
                    f"Expected ',' or ')' in the list, found {separator.describe()}", separator
                )

    def value(self, token: Token, op: Op, spec: Field) -> Value:
        if token.type in _STRING_TOKENS:
            if op not in spec.string_ops:
                raise self.error(
                    f"Expected numeric value type for {spec.label}. Found {token.describe()}",
                    token,
                )
            if spec.integer_strings:
                return self.integer_string(token)
            return token.value
        if token.type is T.NUMBER:
            if op not in spec.number_ops:
                raise self.error(
                    f"Expected a quoted string value for {spec.label} (e.g. 'my-value'). "
                    f"Got value {token.describe()}",
                    token,
                )
            return self.number(token, spec)
        raise self.error(f"Expected a value, found {token.describe()}", token)

    def integer_string(self, token: Token) -> str:
        """An id that the store keys as an integer (experiment ids), in canonical form."""
        text = token.value.strip()
        digits = text.lstrip("-")
        if digits.isascii() and digits.isdigit() and len(digits) <= 19:
            value = int(text)
            if INT64_MIN <= value <= INT64_MAX:
                return str(value)
        raise self.error(
            f"Invalid experiment ID {token.describe()}: it must be an integer string", token
        )

    def number(self, token: Token, spec: Field) -> int | float:
        text = token.value
        is_integer = not any(c in text for c in ".eE")
        if spec.numbers is Numbers.FLOAT:
            return float(text)
        if not is_integer:
            if spec.numbers is Numbers.INTEGER:
                raise self.error(
                    f"Invalid value for {spec.label}: {token.describe()} is not an integer", token
                )
            return float(text)
        # Digits beyond int64 could not be stored, and Python refuses to parse very long ints.
        digits = text.lstrip("-").lstrip("0")
        if len(digits) > 19 or not INT64_MIN <= int(text) <= INT64_MAX:
            raise self.error(
                f"Invalid value for {spec.label}: {token.describe()} is out of the int64 range",
                token,
            )
        return int(text)
