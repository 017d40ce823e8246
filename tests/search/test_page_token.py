"""Keyset page tokens: opaque, bound to their search, refused when forged."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracklet.exceptions import MlflowException
from tracklet.search import RUNS, page_token, parse_filter, parse_order_by


def test_round_trip_and_fingerprint() -> None:
    filter_a = parse_filter("metrics.a > 1", RUNS)
    same = page_token.fingerprint("runs", [1], parse_filter(" metric.a>1 ", RUNS), ())
    assert page_token.fingerprint("runs", [1], filter_a, ()) == same
    other = page_token.fingerprint("runs", [1], filter_a, parse_order_by(["run_id"], RUNS))
    assert other != same
    key = [(0, 1.5), (1, None), (2, None), (0, "x"), (0, 7)]
    token = page_token.encode(same, key)
    assert page_token.decode(token, same, [float, str, float, str, int]) == key
    with pytest.raises(MlflowException, match="different search"):
        page_token.decode(token, other, [float, str, float, str, int])
    with pytest.raises(MlflowException, match="malformed sort key"):
        page_token.decode(token, same, [float, str, float, int, int])


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.binary().map(lambda b: base64.b64encode(b).decode())))
def test_garbage_is_refused_with_400(token: str) -> None:
    with pytest.raises(MlflowException) as info:
        page_token.decode(token, "q", [int])
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
