"""Request decoding: what MLflow's clients send, and MLflow's 400s for what they must not."""

from __future__ import annotations

import json
import math

import pytest

from tracklet.entities import Metric, Param, RunTag
from tracklet.exceptions import MlflowException
from tracklet.wire import endpoints as ep
from tracklet.wire.codec import metric_columns_from_json, metric_from_json
from tracklet.wire.decode import decode, parse_body, parse_query


def test_json_body_fields_are_typed() -> None:
    fields = decode(
        ep.LOG_METRIC,
        {"run_id": "r", "key": "loss", "value": 0.5, "timestamp": 10, "step": 2, "bogus": 1},
    )
    assert fields == {"run_id": "r", "key": "loss", "value": 0.5, "timestamp": 10, "step": 2}


def test_java_int64_strings_and_nan_strings_are_accepted() -> None:
    fields = decode(
        ep.LOG_METRIC,
        {"run_id": "r", "key": "k", "value": "NaN", "timestamp": "1700000000000", "step": "-3"},
    )
    assert math.isnan(fields["value"])
    assert (fields["timestamp"], fields["step"]) == (1_700_000_000_000, -3)
    assert (
        decode(ep.LOG_METRIC, {"run_id": "r", "key": "k", "value": "-Infinity", "timestamp": 1})[
            "value"
        ]
        == -math.inf
    )


def test_run_uuid_stands_in_for_run_id() -> None:
    assert decode(ep.GET_RUN, {"run_uuid": "abc"})["run_id"] == "abc"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"key": "k", "value": 1.0, "timestamp": 1},
            "Missing value for required parameter 'run_id'",
        ),
        ({"run_id": "", "key": "k", "value": 1.0, "timestamp": 1}, "required parameter 'run_id'"),
        (
            {"run_id": 31, "key": "k", "value": 1.0, "timestamp": 1},
            "Invalid value 31 for parameter 'run_id' supplied:  Hint: Value was of type 'int'.",
        ),
        ({"run_id": "r", "key": "k", "value": True, "timestamp": 1}, "parameter 'value'"),
        (
            {"run_id": "r", "key": "k", "value": 1.0, "timestamp": 1, "step": 1.5},
            "parameter 'step'",
        ),
        ({"run_id": "r", "key": "k", "value": "abc", "timestamp": 1}, "parameter 'value'"),
    ],
)
def test_bad_fields_are_400s_with_mlflows_message(raw: dict[str, object], message: str) -> None:
    with pytest.raises(MlflowException) as info:
        decode(ep.LOG_METRIC, raw)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert info.value.get_http_status_code() == 400
    assert message in info.value.message
    assert info.value.message.endswith(
        "See the API docs for more information about request parameters."
    )


def test_camel_case_names_are_accepted_but_not_both_spellings() -> None:
    assert decode(ep.GET_EXPERIMENT, {"experimentId": "3"}) == {"experiment_id": "3"}
    with pytest.raises(MlflowException, match="both 'experiment_id' and 'experimentId'"):
        decode(ep.GET_EXPERIMENT, {"experiment_id": "3", "experimentId": "4"})


def test_enums_by_name_or_number() -> None:
    assert decode(ep.SEARCH_RUNS, {"run_view_type": "ALL"})["run_view_type"] == 3
    assert decode(ep.SEARCH_RUNS, {"run_view_type": 2})["run_view_type"] == 2
    with pytest.raises(MlflowException):
        decode(ep.SEARCH_RUNS, {"run_view_type": "SOME"})


def test_log_batch_messages_become_entities() -> None:
    fields = decode(
        ep.LOG_BATCH,
        {
            "run_id": "r",
            "metrics": [
                {"key": "m", "value": 1.0, "timestamp": 5, "step": 1, "run_id": "r"},
                {"key": "n", "value": "Infinity", "timestamp": "6"},
            ],
            "params": [{"key": "p", "value": "1"}, {"key": "q"}],
            "tags": [{"key": "t", "value": "v"}],
        },
    )
    assert [metric_from_json(m) for m in fields["metrics"]] == [
        Metric("m", 1.0, 5, 1),
        Metric("n", math.inf, 6, 0),
    ]
    assert metric_columns_from_json(fields["metrics"]) == {
        "m": ([1], [5], [1.0]),
        "n": ([0], [6], [math.inf]),
    }
    assert fields["params"] == [Param("p", "1"), Param("q", "")]
    assert fields["tags"] == [RunTag("t", "v")]


def test_log_batch_names_the_missing_field_by_index() -> None:
    metrics = [{"key": "m", "value": 1.0, "timestamp": 5}, {"key": "m", "value": 1.0}]
    with pytest.raises(MlflowException, match=r"'metrics\[1\].timestamp'"):
        metric_columns_from_json(metrics)
    with pytest.raises(MlflowException, match=r"'metrics\[0\]'"):
        metric_columns_from_json(["not an object"])
    with pytest.raises(MlflowException, match="timestamp"):
        metric_columns_from_json([{"key": "m", "value": 1.0, "timestamp": -1}])


def test_model_linked_metrics_keep_their_links() -> None:
    raw = decode(
        ep.LOG_BATCH,
        {"run_id": "r", "metrics": [{"key": "m", "value": 1.0, "timestamp": 5, "model_id": "m"}]},
    )["metrics"]
    assert metric_columns_from_json(raw) is None
    assert metric_from_json(raw[0]).model_id == "m"


def test_query_strings_repeat_lists_and_capitalised_booleans() -> None:
    raw = parse_query(
        ep.GET_METRIC_HISTORY_BULK_INTERVAL,
        [
            ("run_ids", "a"),
            ("run_ids", "b"),
            ("metric_key", "m"),
            ("max_results", "10"),
            ("ignored", "x"),
        ],
    )
    assert decode(ep.GET_METRIC_HISTORY_BULK_INTERVAL, raw) == {
        "run_ids": ["a", "b"],
        "metric_key": "m",
        "max_results": 10,
    }
    from tracklet.wire.values import as_bool

    assert as_bool("False", "allow_partial") is False
    assert as_bool("True", "allow_partial") is True
    with pytest.raises(MlflowException, match="must be 'true' or 'false'"):
        as_bool("maybe", "allow_partial")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"name": "x"}', {"name": "x"}),
        (json.dumps(json.dumps({"name": "x"})).encode(), {"name": "x"}),  # double-encoded
        (b"", {}),
        (b"{not json", {}),
        (b"[1, 2]", {}),
    ],
)
def test_bodies(body: bytes, expected: dict[str, object]) -> None:
    assert parse_body(body) == expected
