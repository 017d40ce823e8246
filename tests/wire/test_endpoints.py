"""The endpoint table: one entry per RPC, MLflow's paths, fields the decoder knows."""

from __future__ import annotations

import pkgutil

from starlette.routing import Match, Route

from tracklet.server.app import all_routes
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


def test_every_resource_module_is_registered_whole() -> None:
    # A resource module left out of RESOURCES, or an Endpoint left out of its module's
    # ENDPOINTS, would be missing from the table the tests and the REST store walk.
    modules = {m.name for m in pkgutil.iter_modules(ep.__path__)} - {"base"}
    assert {resource.__name__.rsplit(".", 1)[1] for resource in ep.RESOURCES} == modules
    for resource in ep.RESOURCES:
        defined = [v for v in vars(resource).values() if isinstance(v, ep.Endpoint)]
        assert list(resource.ENDPOINTS) == defined, resource.__name__
        for name in resource.__all__:
            assert getattr(ep, name) is getattr(resource, name)
    assert len(set(ep.ENDPOINTS)) == len(ep.ENDPOINTS) == 73
    assert set(ep.TRACKING_ENDPOINTS) | set(ep.LOGGED_MODEL_ENDPOINTS) == set(ep.ENDPOINTS)


def test_server_routes_every_endpoint() -> None:
    routes = [r for r in all_routes() if isinstance(r, Route)]
    for endpoint in ep.ENDPOINTS:
        for path in endpoint.route_paths():
            for method in endpoint.methods:
                scope = {"type": "http", "path": path, "method": method}
                assert any(r.matches(scope)[0] is Match.FULL for r in routes), (method, path)
