"""The filter / order_by parser: MLflow's grammar per entity, and errors that point at the text."""

from __future__ import annotations

import pytest

from tracklet.exceptions import MlflowException
from tracklet.search import (
    EXPERIMENTS,
    LOGGED_MODELS,
    RUNS,
    TRACES,
    Comparison,
    Grammar,
    Identifier,
    Kind,
    Op,
    OrderBy,
    parse_filter,
    parse_order_by,
)


def one(filter_string: str, grammar: Grammar = RUNS) -> tuple[Identifier, Op, object]:
    (c,) = parse_filter(filter_string, grammar)
    return c.identifier, c.op, c.value


def error(filter_string: str, grammar: Grammar = RUNS) -> str:
    with pytest.raises(MlflowException) as info:
        parse_filter(filter_string, grammar)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    return info.value.message


M, P, T, A, D = Kind.METRIC, Kind.PARAM, Kind.TAG, Kind.ATTRIBUTE, Kind.DATASET


def test_empty_filter_is_no_comparison() -> None:
    assert parse_filter(None, RUNS) == ()
    assert parse_filter("", RUNS) == ()
    assert parse_filter("   \n", RUNS) == ()


def test_the_issue_target_filter() -> None:
    assert parse_filter("metrics.acc > 0.5 and params.lr = '0.01'", RUNS) == (
        Comparison(Identifier(M, "acc"), Op.GT, 0.5, 0),
        Comparison(Identifier(P, "lr"), Op.EQ, "0.01", 22),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metric.acc >= 1", (Identifier(M, "acc"), Op.GE, 1.0)),
        ("metrics.acc != -2.5e-3", (Identifier(M, "acc"), Op.NE, -0.0025)),
        ("metrics.acc<.5", (Identifier(M, "acc"), Op.LT, 0.5)),
        ("metrics.`f1 score` <= 3", (Identifier(M, "f1 score"), Op.LE, 3.0)),
        ('metrics."val loss" = 1', (Identifier(M, "val loss"), Op.EQ, 1.0)),
        ("metrics.`train/loss` = 0", (Identifier(M, "train/loss"), Op.EQ, 0.0)),
        ("metrics.1st = 0", (Identifier(M, "1st"), Op.EQ, 0.0)),
        ("param.lr = '0.01'", (Identifier(P, "lr"), Op.EQ, "0.01")),
        ('parameters.lr = "0.01"', (Identifier(P, "lr"), Op.EQ, "0.01")),
        ("params.opt LIKE 'ad%'", (Identifier(P, "opt"), Op.LIKE, "ad%")),
        ("params.opt ilike '%AM'", (Identifier(P, "opt"), Op.ILIKE, "%AM")),
        ("params.opt IS NULL", (Identifier(P, "opt"), Op.IS_NULL, None)),
        ("params.opt is not null", (Identifier(P, "opt"), Op.IS_NOT_NULL, None)),
        ("tags.mlflow.runName = 'x'", (Identifier(T, "mlflow.runName"), Op.EQ, "x")),
        ("tag.`a b.c` != 'it''s'", (Identifier(T, "a b.c"), Op.NE, "it's")),
        ("tags.and = 'x'", (Identifier(T, "and"), Op.EQ, "x")),
        ("attributes.status = 'FINISHED'", (Identifier(A, "status"), Op.EQ, "FINISHED")),
        ("attr.user_id = 'u'", (Identifier(A, "user_id"), Op.EQ, "u")),
        ("run.run_name = 'r'", (Identifier(A, "run_name"), Op.EQ, "r")),
        ("`Run Name` = 'r'", (Identifier(A, "run_name"), Op.EQ, "r")),
        ("\"run name\" = 'r'", (Identifier(A, "run_name"), Op.EQ, "r")),
        ("created > 5", (Identifier(A, "start_time"), Op.GT, 5)),
        ("end_time <= 1.5", (Identifier(A, "end_time"), Op.LE, 1.5)),
        ("run_id IN ('a', \"b\")", (Identifier(A, "run_id"), Op.IN, ("a", "b"))),
        ("run_id not in ('a')", (Identifier(A, "run_id"), Op.NOT_IN, ("a",))),
        ("datasets.name = 'ds'", (Identifier(D, "name"), Op.EQ, "ds")),
        (
            "dataset.context IN ('train', 'eval')",
            (Identifier(D, "context"), Op.IN, ("train", "eval")),
        ),
        ("datasets.digest LIKE 'ab%'", (Identifier(D, "digest"), Op.LIKE, "ab%")),
    ],
)
def test_run_filters(text: str, expected: tuple[Identifier, Op, object]) -> None:
    assert one(text) == expected


def test_integer_literals_stay_integers_for_timestamps_only() -> None:
    assert type(one("start_time = 7")[2]) is int
    assert type(one("metrics.a = 7")[2]) is float


def test_comparisons_keep_their_positions() -> None:
    parsed = parse_filter("  metrics.a > 1   AND   tags.b = 'x'", RUNS)
    assert [c.position for c in parsed] == [2, 24]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "metrics.a > 1 OR metrics.b > 2",
            "Invalid clause(s) in filter string: 'OR' at position 14",
        ),
        ("metrics.a = 'x'", "Expected numeric value type for metric. Found 'x' at position 12"),
        (
            "params.a = 1",
            "Expected a quoted string value for param (e.g. 'my-value'). Got value '1'",
        ),
        ("params.a = abc", "Expected a value, found 'abc' at position 11"),
        ("foo.a = 'x'", "Invalid entity type 'foo' at position 0"),
        ("nope = 'x'", "Invalid attribute key 'nope' specified at position 0"),
        ("datasets.size = 'x'", "Invalid dataset key 'size' specified at position 0"),
        ("status IN ('a')", "Invalid comparator 'IN' for attribute 'status' at position 7"),
        ("metrics.a LIKE 'x'", "Invalid comparator 'LIKE' for metric at position 10"),
        ("metrics.a IS NULL", "Invalid comparator 'IS NULL' for metric at position 10"),
        ("metrics.a <> 1", "Expected a comparison operator, found '<>' at position 10"),
        ("metrics.a == 1", "Expected a comparison operator, found '==' at position 10"),
        ("metrics.a > 1 AND", "Expected an identifier, found end of input at position 17"),
        ("metrics.a > 1 metrics.b > 1", "Expected AND or the end of the filter, found 'metrics'"),
        ("(metrics.a > 1)", "Expected an identifier, found '(' at position 0"),
        ("metrics. a > 1", "Expected a key after '.', found 'a' at position 9"),
        ("run_id IN ()", "Expected a quoted string in the list, found ')' at position 11"),
        ("run_id IN ('a' 'b')", "Expected ',' or ')' in the list, found 'b' at position 15"),
        ("run_id IN 'a'", "Expected a parenthesised list of quoted strings, found 'a'"),
        ("run_id IN (1)", "Expected a quoted string in the list, found '1' at position 11"),
        ("params.a NOT LIKE 'x'", "Expected IN after NOT, found 'LIKE' at position 13"),
        ("params.a IS 'x'", "Expected NULL or NOT NULL after IS"),
        ("params.a = 'x'; DROP TABLE runs", "unexpected ';' at position 14"),
        ("params.a = 'x", "unterminated quote ' starting at position 11"),
        ("params.a = 'x' # y", "unexpected character '#' at position 15"),
        ("start_time > 99999999999999999999", "is out of the int64 range at position 13"),
    ],
)
def test_errors_name_the_position_and_token(text: str, expected: str) -> None:
    message = error(text)
    assert expected in message
    assert repr(text) in message or text[:20] in message


def test_experiment_grammar() -> None:
    assert one("name LIKE 'a%'", EXPERIMENTS) == (Identifier(A, "name"), Op.LIKE, "a%")
    assert one("attribute.name = 'a'", EXPERIMENTS) == (Identifier(A, "name"), Op.EQ, "a")
    assert one("experiment_id IN ('1', '007')", EXPERIMENTS)[2] == ("1", "7")
    assert one("tags.team IS NULL", EXPERIMENTS) == (Identifier(T, "team"), Op.IS_NULL, None)
    assert one("creation_time > 5", EXPERIMENTS) == (Identifier(A, "creation_time"), Op.GT, 5)
    # MLflow rejects ``attributes.`` for experiments (spec §6.2) and floats for times.
    assert "Invalid entity type 'attributes'" in error("attributes.name = 'a'", EXPERIMENTS)
    assert "is not an integer" in error("creation_time > 1.5", EXPERIMENTS)
    assert "Invalid experiment ID 'x'" in error("experiment_id = 'x'", EXPERIMENTS)
    assert "Invalid comparator 'LIKE'" in error("experiment_id LIKE '1'", EXPERIMENTS)
    assert "Invalid comparator 'IN'" in error("name IN ('a')", EXPERIMENTS)


def test_logged_model_grammar() -> None:
    assert one("metrics.acc > 1", LOGGED_MODELS) == (Identifier(M, "acc"), Op.GT, 1.0)
    assert one("creation_time > 5", LOGGED_MODELS)[0] == Identifier(A, "creation_timestamp")
    assert one("status = 2", LOGGED_MODELS) == (Identifier(A, "status"), Op.EQ, 2)
    assert one("status = 'READY'", LOGGED_MODELS)[2] == "READY"
    assert one("params.a IN ('x')", LOGGED_MODELS) == (Identifier(P, "a"), Op.IN, ("x",))
    assert "Invalid entity type 'metric'" in error("metric.acc > 1", LOGGED_MODELS)
    assert "Invalid comparator 'IS NULL'" in error("tags.a IS NULL", LOGGED_MODELS)


def test_trace_grammar() -> None:
    S, F = Kind.SPAN, Kind.FEEDBACK
    assert one("trace.status = 'OK'", TRACES) == (Identifier(A, "status"), Op.EQ, "OK")
    assert one("timestamp > 5", TRACES) == (Identifier(A, "timestamp_ms"), Op.GT, 5)
    assert one("span.attributes.model = 'x'", TRACES)[0] == Identifier(S, "attributes.model")
    assert one("span.name RLIKE '^a'", TRACES)[1] is Op.RLIKE
    assert one("metadata.`mlflow.modelId` = 'm'", TRACES)[0] == Identifier(
        Kind.METADATA, "mlflow.modelId"
    )
    assert one("feedback.correct > 0.5", TRACES) == (Identifier(F, "correct"), Op.GT, 0.5)
    assert one("feedback.tone = 'kind'", TRACES) == (Identifier(F, "tone"), Op.EQ, "kind")
    assert "Invalid span key 'colour'" in error("span.colour = 'x'", TRACES)
    assert "Got value '1'" in error("feedback.correct = 1", TRACES)


def test_order_by() -> None:
    assert parse_order_by(None, RUNS) == ()
    assert parse_order_by(["metrics.acc DESC", "created", "tags.`a b` asc"], RUNS) == (
        OrderBy(Identifier(M, "acc"), ascending=False),
        OrderBy(Identifier(A, "start_time"), ascending=True),
        OrderBy(Identifier(T, "a b"), ascending=True),
    )
    assert parse_order_by(["name"], EXPERIMENTS) == (OrderBy(Identifier(A, "name")),)


@pytest.mark.parametrize(
    ("order_by", "grammar", "expected"),
    [
        (["metrics.a", "metric.a DESC"], RUNS, "`order_by` contains duplicate fields"),
        (["start_time", "created"], RUNS, "`order_by` contains duplicate fields"),
        (["tags.a"], EXPERIMENTS, "Invalid order_by entity: tag at position 0"),
        (["datasets.name"], RUNS, "Invalid order_by entity: dataset"),
        (["metrics.a DESC x"], RUNS, "Expected ASC, DESC or the end of the clause, found 'x'"),
        (["run name"], RUNS, "Invalid attribute key 'run' specified for order_by"),
        ([""], RUNS, "Expected an identifier, found end of input at position 0"),
    ],
)
def test_order_by_errors(order_by: list[str], grammar: Grammar, expected: str) -> None:
    with pytest.raises(MlflowException) as info:
        parse_order_by(order_by, grammar)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert expected in info.value.message
