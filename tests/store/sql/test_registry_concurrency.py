"""Version numbers under concurrent registration: processes registering versions of one model on
a fresh store (SQLite file, PostgreSQL schema) get 1..N, no gap, no duplicate, no error."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tracklet.store.sql.store import SqlStore

pytestmark = pytest.mark.slow

_REGISTRAR = textwrap.dedent(
    """
    import sys
    import tracklet

    client = tracklet.MlflowClient(sys.argv[1])
    worker = sys.argv[2]
    try:
        client.create_registered_model("shared")
    except tracklet.MlflowException as error:
        assert error.error_code == "RESOURCE_ALREADY_EXISTS", error
    versions = [
        client.create_model_version("shared", f"s3://b/{worker}/{i}", tags={"w": worker}).version
        for i in range(int(sys.argv[3]))
    ]
    print(" ".join(versions))
    """
)


def test_processes_register_versions_without_gaps(store_uri: str, tmp_path: Path) -> None:
    script = tmp_path / "registrar.py"
    script.write_text(_REGISTRAR)
    workers, each = 4, 6
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), store_uri, str(w), str(each)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    results = [p.communicate(timeout=240) for p in procs]
    returned: list[int] = []
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        mine = [int(v) for v in out.split()]
        assert mine == sorted(mine)  # each process sees its own versions increase
        returned += mine
    assert sorted(returned) == list(range(1, workers * each + 1))
    store = SqlStore(store_uri)
    try:
        found = store.search_model_versions("name = 'shared'", max_results=1000)
        assert sorted(int(v.version) for v in found) == list(range(1, workers * each + 1))
        by_version = {int(v.version): v.source for v in found}
        assert len(set(by_version.values())) == workers * each  # every registration kept
    finally:
        store.close()
