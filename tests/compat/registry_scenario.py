"""One registry scenario, run through any MlflowClient-like object (MLflow's or tracklet's, on
any store), reduced to comparable plain values: what the oracle tests compare."""

from __future__ import annotations

import time
from typing import Any


def version_view(version: Any) -> dict[str, Any]:
    """A model version without what differs by nature (times) or that MLflow drops (model_id)."""
    return {
        "name": version.name,
        "version": str(version.version),
        "description": version.description or None,
        "current_stage": version.current_stage,
        "source": version.source,
        "run_id": version.run_id or None,
        "status": str(version.status),
        "tags": dict(version.tags),
        "aliases": sorted(version.aliases),
    }


def model_view(model: Any) -> dict[str, Any]:
    return {
        "name": model.name,
        "description": model.description or None,
        "tags": dict(model.tags),
        "aliases": {k: str(v) for k, v in model.aliases.items()},
        "latest": sorted(
            (version_view(v) for v in model.latest_versions or []), key=lambda v: int(v["version"])
        ),
    }


def error_of(call: Any) -> str:
    try:
        call()
    except Exception as error:
        return str(getattr(error, "error_code", type(error).__name__))
    return "no error"


class _Ticking:
    """Each call at least 2 ms after the previous one: orders by time are then the order of
    the calls, on a fast store as on a slow one (ties would fall to the tie-breakers)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            time.sleep(0.002)
            try:
                return method(*args, **kwargs)
            finally:
                time.sleep(0.002)

        return call


def run_scenario(client: Any, p: str, source: str) -> dict[str, Any]:
    """Registered models, versions, tags, aliases, stages, searches and errors; every name
    starts with ``p`` (and every search is confined to them), so that servers shared by a
    session's tests give the same answers."""
    client = _Ticking(client)
    out: dict[str, Any] = {}
    scope = f"name LIKE '{p}%'"
    out["created"] = model_view(
        client.create_registered_model(f"{p}fraud", tags={"team": "risk"}, description="first")
    )
    client.create_registered_model(f"{p}churn")
    out["prompt"] = error_of(
        lambda: client.create_registered_model(f"{p}x", tags={"mlflow.prompt.is_prompt": "true"})
    )
    out["duplicate"] = error_of(lambda: client.create_registered_model(f"{p}fraud"))
    out["missing"] = error_of(lambda: client.get_registered_model(f"{p}nope"))
    out["bad_name"] = error_of(lambda: client.create_registered_model(f"{p}a/b"))
    versions = [
        client.create_model_version(f"{p}fraud", f"{source}/{i}", tags={"i": str(i)})
        for i in range(4)
    ]
    out["versions"] = [version_view(v) for v in versions]
    client.create_model_version(f"{p}churn", f"{source}/c", tags={"i": "0"})
    client.set_registered_model_alias(f"{p}fraud", "champion", "2")
    client.set_registered_model_alias(f"{p}fraud", "challenger", "3")
    client.set_registered_model_alias(f"{p}fraud", "challenger", "4")  # moves it
    out["by_alias"] = version_view(client.get_model_version_by_alias(f"{p}fraud", "champion"))
    out["by_latest_alias"] = version_view(client.get_model_version_by_alias(f"{p}fraud", "latest"))
    out["reserved_alias"] = error_of(
        lambda: client.set_registered_model_alias(f"{p}fraud", "latest", "1")
    )
    out["version_alias"] = error_of(
        lambda: client.set_registered_model_alias(f"{p}fraud", "v1", "1")
    )
    out["alias_missing_version"] = error_of(
        lambda: client.set_registered_model_alias(f"{p}fraud", "x", "99")
    )
    out["missing_alias"] = error_of(
        lambda: client.get_model_version_by_alias(f"{p}fraud", f"{p}nope")
    )
    client.delete_registered_model_alias(f"{p}fraud", "challenger")
    client.set_registered_model_tag(f"{p}fraud", "owner", "ana")
    client.delete_registered_model_tag(f"{p}fraud", "team")
    client.set_model_version_tag(f"{p}fraud", "1", "validated", "yes")
    client.delete_model_version_tag(f"{p}fraud", "1", "i")
    out["updated"] = version_view(client.update_model_version(f"{p}fraud", "1", "best so far"))
    out["staged"] = version_view(client.transition_model_version_stage(f"{p}fraud", "1", "staging"))
    out["prod"] = version_view(
        client.transition_model_version_stage(f"{p}fraud", "2", "Production")
    )
    out["archived_others"] = version_view(
        client.transition_model_version_stage(f"{p}fraud", "3", "production", True)
    )
    out["bad_stage"] = error_of(
        lambda: client.transition_model_version_stage(f"{p}fraud", "1", "x")
    )
    out["latest_prod"] = [
        version_view(v) for v in client.get_latest_versions(f"{p}fraud", ["Production"])
    ]
    out["latest_all"] = sorted(
        (version_view(v) for v in client.get_latest_versions(f"{p}fraud")),
        key=lambda v: int(v["version"]),
    )
    client.delete_model_version(f"{p}fraud", "4")
    out["deleted_version"] = error_of(lambda: client.get_model_version(f"{p}fraud", "4"))
    out["after_delete"] = version_view(client.create_model_version(f"{p}fraud", f"{source}/5"))
    out["download"] = client.get_model_version_download_uri(f"{p}fraud", "2")
    out["model"] = model_view(client.get_registered_model(f"{p}fraud"))
    client.rename_registered_model(f"{p}churn", f"{p}churn2")  # MLflow's returns None
    out["renamed"] = model_view(client.get_registered_model(f"{p}churn2"))
    out["renamed_version"] = version_view(client.get_model_version(f"{p}churn2", "1"))
    out["rename_taken"] = error_of(
        lambda: client.rename_registered_model(f"{p}churn2", f"{p}fraud")
    )
    out["desc"] = model_view(client.update_registered_model(f"{p}churn2", description="new"))
    fraud, churn = f"{p}fraud", f"{p}churn2"
    searches = {
        "all": (scope, None),
        "name": (f"name = '{fraud}'", None),
        "like": (f"name LIKE '{p}ch%'", None),
        "ilike": (f"name ILIKE '{p.upper()}FR%'", None),
        "in": (f"name IN ('{fraud}', '{churn}')", None),
        "tag": (f"{scope} AND tags.owner = 'ana'", None),
        "order": (scope, ["name DESC"]),
        "ts": (scope, ["last_updated_timestamp DESC"]),
    }
    out["models"] = {
        key: [m.name for m in client.search_registered_models(f, order_by=o)]
        for key, (f, o) in searches.items()
    }
    version_searches = {
        "all": (scope, None),
        "name": (f"name = '{fraud}'", ["version_number ASC"]),
        "number": (f"name = '{fraud}' AND version_number > 2", ["version_number DESC"]),
        "quoted_number": (f"{scope} AND version_number = '1'", None),
        "tag": (f"{scope} AND tags.i = '0'", ["name ASC"]),
        "tag_like": (f"{scope} AND tags.validated LIKE 'y%'", None),
        "source": (f"{scope} AND source_path = '{source}/2'", None),
        "in": (f"name IN ('{churn}')", None),
        "created": (scope, ["creation_timestamp ASC", "name ASC"]),
    }
    out["versions_found"] = {
        key: [(v.name, str(v.version)) for v in client.search_model_versions(f, order_by=o)]
        for key, (f, o) in version_searches.items()
    }
    pages = []
    page = client.search_model_versions(f"name = '{fraud}'", max_results=2)
    pages.append([str(v.version) for v in page])
    while page.token:
        page = client.search_model_versions(
            f"name = '{fraud}'", max_results=2, page_token=page.token
        )
        pages.append([str(v.version) for v in page])
    out["pages"] = pages
    model_pages = []
    mpage = client.search_registered_models(scope, max_results=1)
    model_pages.append([m.name for m in mpage])
    while mpage.token:
        mpage = client.search_registered_models(scope, max_results=1, page_token=mpage.token)
        model_pages.append([m.name for m in mpage])
    out["model_pages"] = model_pages
    out["bad_filter"] = error_of(lambda: client.search_model_versions(f"{scope} OR name = 'b'"))
    out["bad_key"] = error_of(lambda: client.search_model_versions("foo = 'a'"))
    out["bad_order"] = error_of(lambda: client.search_registered_models(order_by=["foo"]))
    out["bad_max"] = error_of(lambda: client.search_registered_models(max_results=5000))
    client.delete_registered_model(f"{p}churn2")
    out["deleted_model"] = error_of(lambda: client.get_registered_model(f"{p}churn2"))
    out["deleted_model_version"] = error_of(lambda: client.get_model_version(f"{p}churn2", "1"))
    return out
