"""``tracklet server`` with a backend it cannot open: one line saying why, before any banner."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracklet.cli import main
from tracklet.cli.server import _shown


def _serve(uri: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["server", "--port", "1", "--backend-store-uri", uri])
    return result.exit_code, result.output.splitlines()


def test_unknown_scheme_is_one_line_and_no_banner() -> None:
    code, lines = _serve("foo://x")
    assert code == 1
    assert lines == [
        "Error: cannot open the backend store foo://x: Unsupported tracking URI 'foo://x': "
        "scheme 'foo' is not one of http, https, postgres, postgresql, sqlite."
    ]


def test_missing_directory_is_one_line(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/missing/tracklet.db"
    code, lines = _serve(uri)
    assert code == 1
    assert lines == [
        f"Error: cannot open the backend store {uri}: Cannot open the SQLite database "
        f"{tmp_path}/missing/tracklet.db: the directory {tmp_path}/missing does not exist."
    ]


def test_missing_driver_names_the_extra_and_hides_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    code, lines = _serve("postgresql://me:s3cret@127.0.0.1:1/tracking")
    assert code == 1
    assert lines == [
        "Error: cannot open the backend store postgresql://me:***@127.0.0.1:1/tracking: A "
        "PostgreSQL tracking URI needs the psycopg driver (psycopg is not installed): "
        "pip install 'tracklet[postgres]'"
    ]


def test_unreachable_postgres_is_one_line() -> None:
    code, lines = _serve("postgresql://me@127.0.0.1:1/tracking")
    assert code == 1
    assert len(lines) == 1
    assert lines[0].startswith("Error: cannot open the backend store postgresql://me@127.0.0.1:1")
    assert "Connection refused" in lines[0]


def test_shown_masks_only_the_password() -> None:
    assert _shown("postgresql://u:p@h/db") == "postgresql://u:***@h/db"
    assert _shown("postgresql://u@h:5432/db") == "postgresql://u@h:5432/db"
    assert _shown("sqlite:////tmp/a:b@c.db") == "sqlite:////tmp/a:b@c.db"
