"""Dataset summaries of experiments, for the UI (spec §2.9: ajax-only search-datasets)."""

from __future__ import annotations

from typing import Any

from tracklet.entities import ViewType
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.server.rpc import ServerState, rpc
from tracklet.wire import endpoints as ep

Fields = dict[str, Any]
MAX_EXPERIMENT_IDS = 20
CONTEXT_TAG = "mlflow.data.context"


def search_datasets(state: ServerState, req: Fields) -> Fields:
    experiment_ids: list[str] = req.get("experiment_ids", [])
    if not experiment_ids:
        raise MlflowException(
            "SearchDatasets request must specify at least one experiment_id.",
            INVALID_PARAMETER_VALUE,
        )
    if len(experiment_ids) > MAX_EXPERIMENT_IDS:
        raise MlflowException(
            f"SearchDatasets request cannot specify more than {MAX_EXPERIMENT_IDS} "
            f"experiment_ids. Received {len(experiment_ids)} experiment_ids.",
            INVALID_PARAMETER_VALUE,
        )
    # The store has no dataset index of its own yet, so this walks the experiments' runs.
    seen: dict[tuple[str, str, str, str], None] = {}
    token: str | None = None
    while True:
        page = state.store.search_runs(
            experiment_ids, "", ViewType.ALL, max_results=50000, page_token=token
        )
        for run in page:
            for dataset_input in run.inputs.dataset_inputs:
                context = next((t.value for t in dataset_input.tags if t.key == CONTEXT_TAG), "")
                ds = dataset_input.dataset
                seen[(run.info.experiment_id, ds.name, ds.digest, context)] = None
        token = page.token
        if not token:
            break
    summaries = []
    for experiment_id, name, digest, context in seen:
        summary = {"experiment_id": experiment_id, "name": name, "digest": digest}
        if context:
            summary["context"] = context
        summaries.append(summary)
    return {"dataset_summaries": summaries} if summaries else {}


routes = [*rpc(ep.SEARCH_DATASETS, search_datasets)]
