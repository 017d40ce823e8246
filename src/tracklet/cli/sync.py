"""``tracklet sync``: write what killed processes had queued with ``synchronous=False``.

The next process that logs asynchronously to the same store replays them too; this command is
for when none will (the training job is over), and for stores other processes used.
"""

from __future__ import annotations

import click


@click.command()
@click.option(
    "--spool-dir",
    default=None,
    help="Where the spools are (default: TRACKLET_ASYNC_SPOOL_DIR, else "
    "$XDG_STATE_HOME/tracklet/spool, else ~/.local/state/tracklet/spool).",
)
def sync(spool_dir: str | None) -> None:
    """Replay the spooled asynchronous logging of killed processes into their stores."""
    from tracklet.store.schemes import get_store
    from tracklet.tracking.spool import replay_orphans, spool_directory

    directory = spool_dir or spool_directory()
    files, entries = replay_orphans(directory, get_store)
    click.echo(f"Replayed {entries} entries from {files} spool file(s) in {directory}")
