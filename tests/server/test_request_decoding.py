"""Decoding repeated request fields: kept as sent when they are objects, and an error that names
the offending item otherwise."""

from __future__ import annotations

import pytest

from tracklet.exceptions import MlflowException
from tracklet.wire import endpoints as ep
from tracklet.wire.decode import decode


def test_log_batch_metrics_are_passed_through_when_all_are_objects() -> None:
    metrics = [{"key": "a", "value": 1.0, "timestamp": 5, "step": i} for i in range(3)]
    fields = decode(ep.LOG_BATCH, {"run_id": "r1", "metrics": metrics})
    assert fields == {"run_id": "r1", "metrics": metrics}


def test_a_non_object_metric_is_named_by_its_index() -> None:
    metrics = [{"key": "a", "value": 1.0, "timestamp": 5}, {"key": "b"}, 7]
    with pytest.raises(MlflowException, match=r"metrics\[2\]") as info:
        decode(ep.LOG_BATCH, {"run_id": "r1", "metrics": metrics})
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_a_bad_param_is_named_by_its_index_and_good_ones_decode() -> None:
    fields = decode(ep.LOG_BATCH, {"run_id": "r1", "params": [{"key": "p", "value": "1"}]})
    assert [(p.key, p.value) for p in fields["params"]] == [("p", "1")]
    with pytest.raises(MlflowException, match=r"params\[1\]"):
        decode(
            ep.LOG_BATCH,
            {"run_id": "r1", "params": [{"key": "p", "value": "1"}, {"key": ["x"]}]},
        )
