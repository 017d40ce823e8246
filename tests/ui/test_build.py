"""The committed UI build matches its sources (no Node needed): ui/build.mjs records a sha256 of
the UI's sources in SOURCE-HASH; this recomputes it the same way. Also the JS size budget."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "ui"
ASSETS = ROOT / "src" / "tracklet" / "server" / "ui_assets"
TOP_LEVEL = ("build.mjs", "package.json", "package-lock.json", "tsconfig.json")


def source_hash() -> str:
    """What build.mjs's sourceHash() computes: sha256 over "<sha256>  <path>\\n" lines, sorted
    by path, for the top-level build files and everything under ui/src."""
    paths = list(TOP_LEVEL) + [
        p.relative_to(UI).as_posix() for p in (UI / "src").rglob("*") if p.is_file()
    ]
    lines = "".join(
        f"{hashlib.sha256((UI / p).read_bytes()).hexdigest()}  {p}\n" for p in sorted(paths)
    )
    return hashlib.sha256(lines.encode()).hexdigest()


def test_committed_build_is_current() -> None:
    recorded = (ASSETS / "SOURCE-HASH").read_text().strip()
    assert recorded == source_hash(), (
        "The UI sources changed since the committed build: run `npm ci && npm run build` in ui/ "
        "and commit src/tracklet/server/ui_assets/"
    )


def test_index_names_existing_assets_with_compressed_siblings() -> None:
    html = (ASSETS / "index.html").read_text()
    named = re.findall(r'static-files/assets/([^"]+)"', html)
    assert any(n.endswith(".js") for n in named)
    assert any(n.endswith(".css") for n in named)
    for name in named:
        for suffix in ("", ".gz", ".br"):
            assert (ASSETS / "assets" / (name + suffix)).is_file(), name + suffix


def test_javascript_budget() -> None:
    scripts = [p for p in (ASSETS / "assets").glob("*.js")]
    total = sum(p.stat().st_size for p in scripts)
    assert total <= 1_000_000, f"{total} B of JavaScript in all (budget 1 MB)"
    html = (ASSETS / "index.html").read_text()
    first = sum(
        (ASSETS / "assets" / n).stat().st_size
        for n in re.findall(r'static-files/assets/([^"]+\.js)"', html)
    )
    assert first <= 350_000, f"{first} B of JavaScript on the first route (budget 350 KB)"
