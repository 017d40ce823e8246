"""The table of MLflow REST endpoints that the server routes and the REST store calls.

One module per resource defines that resource's :class:`Endpoint` s (:mod:`.experiments`,
:mod:`.datasets`, :mod:`.runs`, :mod:`.metrics`, :mod:`.artifacts`, :mod:`.meta`,
:mod:`.logged_models`, :mod:`.traces`, :mod:`.model_registry`); the types and shared fields
live in :mod:`.base`. The server decodes requests with these fields
(:mod:`tracklet.wire.decode`); the REST store builds its requests from the same entries, so the
two cannot disagree on a path or a field name.

This package re-exports every resource's names, so callers write
``from tracklet.wire import endpoints as ep`` and ``ep.CREATE_EXPERIMENT``.

Adding a resource (the model registry, traces, ...) touches only its own module and this file:
write ``endpoints/<resource>.py`` defining its ``Endpoint`` constants, ``ENDPOINTS`` (all of them,
in registration order) and a sorted ``__all__`` of its constants (``ENDPOINTS`` stays out of it);
then register it here: its ``import *`` line (so ``ep.NAME`` works) and its module in
:data:`RESOURCES` (so its endpoints join :data:`ENDPOINTS`, which the tests check end to end).
"""

from __future__ import annotations

from types import ModuleType

from tracklet.wire.endpoints import (
    artifacts,
    datasets,
    experiments,
    logged_models,
    meta,
    metrics,
    model_registry,
    runs,
    traces,
)
from tracklet.wire.endpoints.artifacts import *  # noqa: F403
from tracklet.wire.endpoints.base import *  # noqa: F403
from tracklet.wire.endpoints.base import Endpoint
from tracklet.wire.endpoints.datasets import *  # noqa: F403
from tracklet.wire.endpoints.experiments import *  # noqa: F403
from tracklet.wire.endpoints.logged_models import *  # noqa: F403
from tracklet.wire.endpoints.meta import *  # noqa: F403
from tracklet.wire.endpoints.metrics import *  # noqa: F403
from tracklet.wire.endpoints.model_registry import *  # noqa: F403
from tracklet.wire.endpoints.runs import *  # noqa: F403
from tracklet.wire.endpoints.traces import *  # noqa: F403

# Every resource module, in the order the server registers their routes.
RESOURCES: tuple[ModuleType, ...] = (
    experiments,
    datasets,
    runs,
    metrics,
    artifacts,
    meta,
    logged_models,
    traces,
    model_registry,
)

# Every JSON RPC the server routes and the REST store may call.
ENDPOINTS: tuple[Endpoint, ...] = tuple(
    endpoint for resource in RESOURCES for endpoint in resource.ENDPOINTS
)
# Every RPC but the logged-model ones (which have their own table); the registry's are in.
LOGGED_MODEL_ENDPOINTS: tuple[Endpoint, ...] = logged_models.ENDPOINTS
MODEL_REGISTRY_ENDPOINTS: tuple[Endpoint, ...] = model_registry.ENDPOINTS
TRACKING_ENDPOINTS: tuple[Endpoint, ...] = tuple(
    endpoint for endpoint in ENDPOINTS if endpoint not in LOGGED_MODEL_ENDPOINTS
)
