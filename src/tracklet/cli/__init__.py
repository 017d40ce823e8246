"""The ``tracklet`` command: ``tracklet server``, ``tracklet ui``, ``tracklet sync``, ``tracklet db
upgrade``, the everyday ``runs``, ``experiments``, ``artifacts`` and ``gc`` commands, and
``tracklet import`` / ``export`` to and from MLflow.

Subcommand modules import their heavy dependencies (uvicorn, the server, the store) only when
they run, so ``tracklet --help`` and server start-up stay quick.
"""

from __future__ import annotations

import click

from tracklet.cli.artifacts import artifacts
from tracklet.cli.db import db
from tracklet.cli.experiments import experiments
from tracklet.cli.gc import gc
from tracklet.cli.runs import runs
from tracklet.cli.server import server, ui
from tracklet.cli.sync import sync
from tracklet.cli.transfer import export, import_


@click.group()
@click.version_option(package_name="tracklet", prog_name="tracklet")
def main() -> None:
    """tracklet: a fast experiment tracker that speaks MLflow's Tracking API and REST protocol."""


main.add_command(server)
main.add_command(ui)
main.add_command(sync)
main.add_command(db)
main.add_command(runs)
main.add_command(experiments)
main.add_command(artifacts)
main.add_command(gc)
main.add_command(import_)
main.add_command(export)

__all__ = ["main"]
