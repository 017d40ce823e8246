"""Dataset RPCs (spec §2.9): the UI's dataset search across experiments."""

from __future__ import annotations

from tracklet.wire.endpoints.base import Endpoint, repeated

# UI only: the declared proto path lacks its leading '/', so only the ajax route works (§2.9).
SEARCH_DATASETS = Endpoint(
    "searchDatasets",
    ("POST",),
    "/mlflow/experiments/search-datasets",
    (repeated("experiment_ids"),),
    api=False,
)

ENDPOINTS: tuple[Endpoint, ...] = (SEARCH_DATASETS,)

__all__ = ["SEARCH_DATASETS"]
