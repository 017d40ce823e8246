"""Fuzzing the parser: nothing but MlflowException escapes, and valid filters round-trip."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracklet.exceptions import MlflowException
from tracklet.search import (
    EXPERIMENTS,
    LOGGED_MODELS,
    RUNS,
    TRACES,
    Comparison,
    Identifier,
    Kind,
    Op,
    parse_filter,
    parse_order_by,
)

GRAMMARS = (RUNS, EXPERIMENTS, LOGGED_MODELS, TRACES)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Fragments of real filters, so random sequences get deep into the grammar.
FRAGMENTS = [
    "metrics", "metric", "params", "tags", "attributes", "attribute", "datasets", "span",
    "feedback", ".", "acc", "`f1 score`", '"my key"', "'x'", "'it''s'", '"v"', "1", "-2.5e3",
    ".5", "1e999", "99999999999999999999", "=", "!=", "<", "<=", ">", ">=", "<>", "==", "LIKE",
    "ilike", "RLIKE", "IN", "NOT", "IS", "NULL", "AND", "and", "OR", "(", ")", ",", "`", "'",
    '"', ";", "run_id", "status", "start_time", "created", "Run Name", "name", "experiment_id",
    "creation_time", "context", "mlflow.runName", "attributes.model", "ASC", "DESC", "\\",
    "\x00", "é", "٣",
]  # fmt: skip


def _check(text: str) -> None:
    codes = set()
    for grammar in GRAMMARS:
        for parse, argument in ((parse_filter, text), (parse_order_by, [text])):
            try:
                parse(argument, grammar)  # type: ignore[operator]
            except MlflowException as error:  # anything else fails the test
                codes.add(error.error_code)
    assert codes <= {"INVALID_PARAMETER_VALUE"}


@FUZZ
@given(st.text())
def test_random_text_raises_only_mlflow_exceptions(text: str) -> None:
    _check(text)


@FUZZ
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12), st.sampled_from(["", " ", "  \n"]))
def test_random_fragments_raise_only_mlflow_exceptions(parts: list[str], gap: str) -> None:
    _check(gap.join(parts))


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


keys = st.text(st.characters(codec="utf-8", exclude_characters="`\\"), min_size=1, max_size=12)
strings = st.text(st.characters(codec="utf-8"), max_size=12)
numbers = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def comparisons(draw: st.DrawFn) -> tuple[str, Comparison]:
    kind = draw(st.sampled_from([Kind.METRIC, Kind.PARAM, Kind.TAG, Kind.ATTRIBUTE]))
    key = draw(keys)
    prefix = {Kind.METRIC: "metrics", Kind.PARAM: "params", Kind.TAG: "tags"}.get(kind)
    if kind is Kind.METRIC:
        op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
        value = draw(numbers)
        return f"metrics.`{key}` {op} {value!r}", Comparison(Identifier(kind, key), Op(op), value)
    if kind is Kind.ATTRIBUTE:
        values = draw(st.lists(strings, min_size=1, max_size=3))
        op = draw(st.sampled_from(["IN", "NOT IN"]))
        listed = ", ".join(_quote(v) for v in values)
        return f"run_id {op} ({listed})", Comparison(
            Identifier(kind, "run_id"), Op(op), tuple(values)
        )
    op = draw(st.sampled_from(["=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"]))
    if op.startswith("IS"):
        return f"{prefix}.`{key}` {op}", Comparison(Identifier(kind, key), Op(op), None)
    value = draw(strings)
    return f"{prefix}.`{key}` {op} {_quote(value)}", Comparison(
        Identifier(kind, key), Op(op), value
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(comparisons(), min_size=1, max_size=4), st.sampled_from([" AND ", " and "]))
def test_rendered_filters_parse_back(items: list[tuple[str, Comparison]], joiner: str) -> None:
    text = joiner.join(rendered for rendered, _ in items)
    parsed = parse_filter(text, RUNS)
    expected = [c for _, c in items]
    assert [(c.identifier, c.op, c.value) for c in parsed] == [
        (c.identifier, c.op, c.value) for c in expected
    ]
