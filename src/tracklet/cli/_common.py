"""What the everyday commands share: the ``--tracking-uri`` option, a client for it, MLflow's
errors as one line, tables or JSON on stdout, and progress bars on stderr.

Nothing heavy is imported here: each command imports the tracking client (and, for a transfer,
tqdm) when it runs, so ``tracklet --help`` and ``tracklet runs list`` start quickly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from tracklet.tracking.client import MlflowClient

F = TypeVar("F", bound=Callable[..., Any])

VIEWS = {"active_only": 1, "deleted_only": 2, "all": 3}  # MLflow's ViewType numbers


def tracking_uri_option(function: F) -> F:
    """``--tracking-uri``: the store to act on (else MLFLOW_TRACKING_URI, else tracklet.db)."""
    return click.option(
        "--tracking-uri",
        default=None,
        metavar="URI",
        help="Tracking URI: sqlite:///path.db, postgresql://..., or a server's http(s):// URL "
        "(default: MLFLOW_TRACKING_URI, else sqlite:///tracklet.db in the working directory).",
    )(function)


def output_option(function: F) -> F:
    """``--output table|json``."""
    return click.option(
        "--output",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="Print a table for people or JSON for scripts.",
    )(function)


def view_option(function: F) -> F:
    """MLflow's ``--view``/``-v``: active_only, deleted_only or all."""
    return click.option(
        "--view",
        "-v",
        type=click.Choice(list(VIEWS)),
        default="active_only",
        show_default=True,
        help="Which lifecycle stages to list.",
    )(function)


def resolve_uri(tracking_uri: str | None) -> str:
    """The URI a command acts on: the option, else MLFLOW_TRACKING_URI, else tracklet.db."""
    from tracklet.tracking.uri import resolve

    return resolve(tracking_uri)


def client(tracking_uri: str | None) -> MlflowClient:
    """A tracking client for the option's URI."""
    from tracklet.tracking.client import MlflowClient

    return MlflowClient(resolve_uri(tracking_uri))


@contextmanager
def mlflow_errors() -> Iterator[None]:
    """MLflow's errors (not found, bad value) as one line and exit status 1, no traceback."""
    from tracklet.exceptions import MlflowException

    try:
        yield
    except MlflowException as error:
        message = " ".join(error.message.split())
        raise click.ClickException(f"{error.error_code}: {message}") from None


def act(tracking_uri: str | None, call: Callable[[MlflowClient], object], message: str) -> None:
    """One client call under ``mlflow_errors``, then MLflow's message for it (the lifecycle
    commands: rename, delete, restore)."""
    with mlflow_errors():
        call(client(tracking_uri))
    click.echo(message)


def format_time(ms: int | None) -> str:
    """Milliseconds since the epoch as MLflow's CLI prints them (local time, to the second)."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table: a header, a rule, one line a row, columns padded to fit (one format
    call a row: ten thousand runs print in a few milliseconds)."""
    cells = [list(headers)] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(map(len, column)) for column in zip(*cells, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths[:-1]) + ("  {}" if len(widths) > 1 else "{}")
    lines = [line.format(*row).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def echo_json(value: Any) -> None:
    """Indented JSON on stdout, keys in the order given."""
    click.echo(json.dumps(value, indent=4))


def split_ids(value: str | None) -> list[str] | None:
    """A comma-separated option (``--run-ids a,b``) as a list; None when not given."""
    if not value:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def progress(total: int | None, description: str, unit: str = "it") -> Any:
    """A tqdm bar on stderr, shown only on a terminal and only for work longer than a second."""
    from tqdm import tqdm  # type: ignore[import-untyped]

    return tqdm(
        total=total,
        desc=description,
        unit=unit,
        mininterval=0.2,
        delay=1.0,
        leave=False,
        dynamic_ncols=True,
        disable=None,  # None: off when stderr is not a terminal (pipes, CI, tests)
    )
