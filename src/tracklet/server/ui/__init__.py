"""The web UI's server side: the single-page app's files and the UI-only JSON routes under
``/ajax-api/2.0/tracklet/`` (columnar runs, experiment keys, downsampled series, raw series,
live updates). The UI reads nothing but these and MLflow's JSON API."""

from __future__ import annotations

from starlette.routing import BaseRoute

from tracklet.server.ui import columns, events, series, static

routes: list[BaseRoute] = [*static.routes, *columns.routes, *series.routes, *events.routes]
