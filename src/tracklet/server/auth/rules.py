"""Which capability each route needs, on which resource (MLflow's validators, spec'd per RPC in
mlflow/server/auth/__init__.py BEFORE_REQUEST_HANDLERS).

A rule is (need, resource): ``need`` is read / update / delete / manage (MLflow's capability
names), or ANY (any signed-in user) or ADMIN; ``resource`` names the request field that
identifies the experiment (directly, through a run, a logged model or an artifact path) or the
registered model. Paths are matched without their ``/api/N.0`` or ``/ajax-api/N.0`` prefix.
A path with no rule is for admins only, so a route added later is closed until given one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracklet.server.auth.api import PATHS as AUTH_API_PATHS

ANY = "any"
ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Rule:
    need: str
    resource: str = ""  # experiment_id, experiment_ids, run_id, run_ids, experiment_name,
    # model_id (path), artifact (path), name, series (the UI's {run_id, key} list),
    # run_or_experiment (the UI's live events), trace_id, trace_ids, trace_path,
    # trace_location, trace_locations, otlp_experiment, link_to_run, or "" for none


_EXP = "experiment_id"
_RUN = "run_id"
_NAME = "name"

RULES: dict[str, Rule] = {
    "/mlflow/server-info": Rule(ANY),
    "/version": Rule(ANY),
    "/mlflow/experiments/create": Rule(ANY),  # the creator is granted MANAGE
    "/mlflow/experiments/search": Rule(ANY),  # results filtered to readable experiments
    "/mlflow/experiments/get": Rule("read", _EXP),
    "/mlflow/experiments/get-by-name": Rule("read", "experiment_name"),
    "/mlflow/experiments/update": Rule("update", _EXP),
    "/mlflow/experiments/delete": Rule("delete", _EXP),
    "/mlflow/experiments/restore": Rule("delete", _EXP),
    "/mlflow/experiments/set-experiment-tag": Rule("update", _EXP),
    "/mlflow/experiments/delete-experiment-tag": Rule("update", _EXP),
    "/mlflow/experiments/search-datasets": Rule("read", "experiment_ids"),
    "/mlflow/runs/create": Rule("update", _EXP),
    "/mlflow/runs/get": Rule("read", _RUN),
    "/mlflow/runs/update": Rule("update", _RUN),
    "/mlflow/runs/delete": Rule("delete", _RUN),
    "/mlflow/runs/restore": Rule("delete", _RUN),
    "/mlflow/runs/search": Rule("read", "experiment_ids"),
    "/mlflow/runs/log-metric": Rule("update", _RUN),
    "/mlflow/runs/log-parameter": Rule("update", _RUN),
    "/mlflow/runs/set-tag": Rule("update", _RUN),
    "/mlflow/runs/delete-tag": Rule("update", _RUN),
    "/mlflow/runs/log-batch": Rule("update", _RUN),
    "/mlflow/runs/log-inputs": Rule("update", _RUN),
    "/mlflow/runs/outputs": Rule("update", _RUN),
    "/mlflow/runs/log-model": Rule("update", _RUN),
    "/mlflow/metrics/get-history": Rule("read", _RUN),
    "/mlflow/metrics/get-history-bulk": Rule("read", "run_ids"),
    "/mlflow/metrics/get-history-bulk-interval": Rule("read", "run_ids"),
    "/mlflow/artifacts/list": Rule("read", _RUN),
    "/mlflow/artifacts/presigned-download-url": Rule("read", _RUN),
    "/mlflow/artifacts/presigned-upload-url": Rule("update", _RUN),
    "/get-artifact": Rule("read", _RUN),
    "/mlflow-artifacts/artifacts": Rule("read", "artifact"),
    "/mlflow/logged-models": Rule("update", _EXP),
    "/mlflow/logged-models/search": Rule("read", "experiment_ids"),
    # The web UI: its page and assets hold no data; its JSON routes name experiments or runs.
    "/": Rule(ANY),
    "/index.html": Rule(ANY),
    "/tracklet/runs/search-columns": Rule("read", "experiment_ids"),
    "/tracklet/experiments/keys": Rule("read", "experiment_ids"),
    "/tracklet/metrics/series": Rule("read", "series"),  # every {run_id, key} asked for
    "/tracklet/metrics/raw": Rule("read", _RUN),
    "/tracklet/events": Rule("read", "run_or_experiment"),
    # Registered models (and their versions) by name.
    "/mlflow/registered-models/create": Rule(ANY),  # the creator is granted MANAGE
    "/mlflow/registered-models/search": Rule(ANY),  # results filtered
    "/mlflow/model-versions/search": Rule(ANY),  # results filtered
    "/mlflow/registered-models/get": Rule("read", _NAME),
    "/mlflow/registered-models/get-latest-versions": Rule("read", _NAME),
    "/mlflow/registered-models/alias": Rule("read", _NAME),  # GET; set/delete below
    "/mlflow/registered-models/update": Rule("update", _NAME),
    "/mlflow/registered-models/rename": Rule("update", _NAME),
    "/mlflow/registered-models/set-tag": Rule("update", _NAME),
    "/mlflow/registered-models/delete-tag": Rule("update", _NAME),
    "/mlflow/registered-models/delete": Rule("delete", _NAME),
    "/mlflow/model-versions/create": Rule("update", _NAME),
    "/mlflow/model-versions/get": Rule("read", _NAME),
    "/mlflow/model-versions/get-download-uri": Rule("read", _NAME),
    "/mlflow/model-versions/update": Rule("update", _NAME),
    "/mlflow/model-versions/transition-stage": Rule("update", _NAME),
    "/mlflow/model-versions/set-tag": Rule("update", _NAME),
    "/mlflow/model-versions/delete-tag": Rule("delete", _NAME),
    "/mlflow/model-versions/delete": Rule("delete", _NAME),
    "/mlflow/registered-models/get-by-alias": Rule("read", _NAME),
    "/model-versions/get-artifact": Rule("read", _NAME),
    # Traces follow their experiment (MLflow's validate_can_*_trace*): a trace id is resolved
    # to the experiment it lives in; an unknown trace is refused, as MLflow does.
    "/mlflow/traces": Rule("update", "trace_location"),  # StartTraceV3: creates in it
    "/v1/traces": Rule("update", "otlp_experiment"),  # OTLP: x-mlflow-experiment-id
    "/mlflow/traces/get": Rule("read", "trace_id"),
    "/mlflow/traces/batchGet": Rule("read", "trace_ids"),
    "/mlflow/traces/batchGetInfos": Rule("read", "trace_ids"),
    "/mlflow/traces/search": Rule("read", "trace_locations"),
    "/mlflow/traces/delete-traces": Rule("delete", _EXP),
    # update on the run's experiment, read on each trace's
    "/mlflow/traces/link-to-run": Rule("update", "link_to_run"),
}
# Same path, other capability by method.
METHOD_RULES: dict[tuple[str, str], Rule] = {
    ("/mlflow/registered-models/alias", "POST"): Rule("update", _NAME),
    ("/mlflow/registered-models/alias", "DELETE"): Rule("delete", _NAME),
}
_BY_METHOD = {"GET": "read", "HEAD": "read", "PUT": "update", "PATCH": "update", "POST": "update"}
_PREFIX = re.compile(r"^/(?:api|ajax-api)/\d\.0(?=/)")


def strip_prefix(path: str) -> str:
    return _PREFIX.sub("", path, count=1)


def rule_for(path: str, method: str) -> Rule:
    """The rule for a request (path already without the static prefix)."""
    bare = strip_prefix(path)
    if bare in AUTH_API_PATHS:
        return Rule(ANY)  # each auth API handler checks who may call it
    rule = METHOD_RULES.get((bare, method)) or RULES.get(bare)
    if rule is not None:
        return rule
    if bare.startswith("/mlflow/logged-models/"):
        # /{model_id}, /{model_id}/tags[/{key}], /{model_id}/params
        need = "delete" if method == "DELETE" and bare.count("/") == 3 else None
        return Rule(need or _BY_METHOD.get(method, "update"), "model_id")
    if bare.startswith(("/mlflow-artifacts/artifacts/", "/mlflow-artifacts/presigned/")):
        return Rule(
            "delete" if method == "DELETE" else _BY_METHOD.get(method, "update"), "artifact"
        )
    if bare.startswith("/mlflow-artifacts/mpu/"):
        return Rule("update", "artifact")
    if bare.startswith("/static-files/"):
        return Rule(ANY)
    if bare.startswith("/mlflow/traces/") and bare.count("/") <= 4:
        # /{trace_id} (GetTraceInfoV3) and /{trace_id}/tags (set, delete)
        return Rule("read" if method in ("GET", "HEAD") else "update", "trace_path")
    return Rule(ADMIN)
