"""sklearn autologging's work on the artifact worker (``tracking/background.py``): the training
plots, ``estimator.html`` with the run's other files, and the wait for its queued params and
metrics. What each needs is taken on the training thread, from the estimator as the fit left it
(it may be refitted meanwhile)."""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from typing import Any

from tracklet.autolog import warn
from tracklet.autolog._training import RunLogger, wait_in_background
from tracklet.sklearn import _autolog_content as content


def upload(flavor: str, logger: RunLogger, estimator: Any, directory: str | None) -> None:
    """Render ``estimator.html`` (from a copy of the estimator as this fit left it) into
    ``directory`` (a new one if None) and upload the directory on the artifact worker; then
    wait there for the run's queued params and metrics."""
    from tracklet.tracking import background

    client, run_id = logger.client, logger.run_id
    html = ""
    try:
        snapshot = copy.deepcopy(estimator)
    except Exception:  # not copyable: rendered here
        snapshot = None
        html = content.estimator_html(estimator)

    def render_and_upload() -> None:
        local = directory or tempfile.mkdtemp(prefix="tracklet-autolog-")
        try:
            page = html if snapshot is None else content.estimator_html(snapshot)
            with open(os.path.join(local, "estimator.html"), "w", encoding="utf-8") as f:
                f.write(page)
            client.log_artifacts(run_id, local)
        except Exception as error:
            warn(flavor, "Failed to log the artifacts of run %s: %s", run_id, error)
        finally:
            shutil.rmtree(local, ignore_errors=True)

    background.submit(run_id, render_and_upload)
    wait_in_background(flavor, logger)


def plot(
    flavor: str, logger: RunLogger, estimator: Any, x: Any, y: Any, sample_weight: Any
) -> None:
    """Draw the training plots on the artifact worker (drawing is most of autologging's cost);
    what they need is computed here, from the estimator as this fit left it."""
    from tracklet.tracking import background

    data = content.classifier_plot_data(estimator, x, y, sample_weight)
    client, run_id = logger.client, logger.run_id

    def draw_and_upload() -> None:
        try:
            with content.make_tmpdir() as directory:
                content.render_classifier_plots(data, content.TRAINING_PREFIX, directory)
                client.log_artifacts(run_id, directory)
        except Exception as error:
            warn(flavor, "Failed to log the training plots of run %s: %s", run_id, error)

    background.submit(run_id, draw_and_upload)
