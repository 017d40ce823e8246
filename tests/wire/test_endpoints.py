"""The endpoint table: one entry per RPC, MLflow's paths, fields the decoder knows."""

from __future__ import annotations

from tracklet.wire import endpoints as ep
from tracklet.wire.codec import MESSAGE_DECODERS


def test_paths_are_unique_and_versioned() -> None:
    seen = set()
    for endpoint in ep.TRACKING_ENDPOINTS:
        for path in endpoint.route_paths():
            for method in endpoint.methods:
                assert (method, path) not in seen
                seen.add((method, path))
            assert path.startswith((f"/api/{endpoint.major}.0/", f"/ajax-api/{endpoint.major}.0/"))


def test_known_paths() -> None:
    assert ep.LOG_OUTPUTS.api_path == "/api/2.0/mlflow/runs/outputs"
    assert ep.SERVER_INFO.api_path == "/api/3.0/mlflow/server-info"
    assert ep.SEARCH_DATASETS.route_paths() == ["/ajax-api/2.0/mlflow/experiments/search-datasets"]
    assert ep.SEARCH_EXPERIMENTS.methods == ("POST", "GET")


def test_message_fields_have_decoders() -> None:
    for endpoint in ep.TRACKING_ENDPOINTS:
        for field in endpoint.fields:
            if field.kind == ep.MESSAGE:
                assert field.message in MESSAGE_DECODERS
    assert ep.Field("run_view_type").json_name == "runViewType"
