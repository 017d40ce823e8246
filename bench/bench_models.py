"""Model logging and large-artifact benchmarks: tracklet against MLflow 3.17.2, same run.

Run by hand (it takes a few minutes and ~2 GB of /tmp)::

    .venv/bin/python bench/bench_models.py            # every row, 1 GiB proxy upload
    .venv/bin/python bench/bench_models.py --gib 0.25 # a smaller upload
    .venv/bin/python bench/bench_models.py --skip-proxy

Rows:
- ``sklearn.log_model`` of a small RandomForest (10 trees, 200 x 4) into a fresh SQLite store,
  first and second call in one process, with cloudpickle and with skops (MLflow 3.17's
  default; both libraries get the same ``skops_trusted_types``, and ``skops.io`` is imported
  before timing, since importing it costs seconds in both). MLflow infers pip requirements by
  loading the model in a subprocess; tracklet reads installed versions.
- ``log_artifact`` of one large file through each server's ``mlflow-artifacts`` proxy (each
  server started as ``<tool> server`` on 127.0.0.1, one worker, its own client library): peak
  resident memory of the server's process tree above its idle size, sampled every 20 ms, and
  the upload time.

Every server and store lives in a temporary directory on this machine; nothing touches the
network.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

PYTHON = sys.executable
BIN = Path(PYTHON).parent

_LOG_MODEL = r"""
import json, sys, time
import numpy as np
from sklearn.ensemble import RandomForestClassifier
import skops.io  # noqa: F401  (imported before timing: seconds in both libraries)
import {lib} as m

m.set_tracking_uri("sqlite:///" + sys.argv[1])
rng = np.random.default_rng(0)
x = rng.normal(size=(200, 4))
y = (x[:, 0] > 0).astype(int)
rf = RandomForestClassifier(n_estimators=10, random_state=0).fit(x, y)
kwargs = {kwargs}
times = []
with m.start_run():
    for i in range(2):
        t0 = time.perf_counter()
        m.sklearn.log_model(rf, name=f"rf{{i}}", **kwargs)
        times.append(time.perf_counter() - t0)
print(json.dumps(times))
"""

_UPLOAD = r"""
import sys, time
url, path, lib = sys.argv[1], sys.argv[2], sys.argv[3]
if lib == "tracklet":
    from tracklet.artifacts.http import HttpArtifactRepository
else:
    from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository
t0 = time.perf_counter()
HttpArtifactRepository(url).log_artifact(path)
print(time.perf_counter() - t0)
"""

RF_TRUSTED = ["sklearn.tree._tree.Tree"]


def _run_log_model(lib: str, kwargs: dict[str, object], tmp: Path) -> list[float]:
    db = tmp / f"{lib}-{len(list(tmp.iterdir()))}.db"
    code = _LOG_MODEL.format(lib=lib, kwargs=repr(kwargs))
    env = {**os.environ, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"}
    out = subprocess.run(
        [PYTHON, "-c", code, str(db)],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{lib} log_model failed:\n{out.stderr[-3000:]}")
    times: list[float] = json.loads(out.stdout.strip().splitlines()[-1])
    return times


# ---------------------------------------------------------------------- proxy memory


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree_rss_kib(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except OSError:
            continue
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        pending.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not become healthy")


def _proxy_upload(lib: str, big_file: Path, tmp: Path) -> tuple[float, float, float]:
    """(idle MiB, peak MiB above idle, upload seconds) for one server."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    workdir = tmp / f"{lib}-server"
    workdir.mkdir()
    args = [
        str(BIN / lib),
        "server",
        "--backend-store-uri",
        f"sqlite:///{workdir / 'store.db'}",
        "--artifacts-destination",
        str(workdir / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    proc = subprocess.Popen(args, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(url, proc)
        time.sleep(2)  # let start-up allocations settle
        idle = _tree_rss_kib(proc.pid)
        peak = idle
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss_kib(proc.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        target = f"{url}/api/2.0/mlflow-artifacts/artifacts/0/bench/artifacts"
        out = subprocess.run(
            [PYTHON, "-c", _UPLOAD, target, str(big_file), lib],
            capture_output=True,
            text=True,
            check=False,
        )
        done.set()
        sampler.join()
        if out.returncode != 0:
            raise RuntimeError(f"{lib} upload failed:\n{out.stderr[-3000:]}")
        stored = workdir / "artifacts" / "0" / "bench" / "artifacts" / big_file.name
        if stored.stat().st_size != big_file.stat().st_size:
            raise RuntimeError(f"{lib}: stored {stored.stat().st_size} bytes")
        seconds = float(out.stdout.strip().splitlines()[-1])
        return idle / 1024, (peak - idle) / 1024, seconds
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _make_file(path: Path, gib: float) -> None:
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as f:
        for _ in range(int(gib * 1024)):
            f.write(block)


# ---------------------------------------------------------------------- table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=1.0, help="size of the proxied upload")
    parser.add_argument("--skip-proxy", action="store_true")
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-models-"))
    try:
        for label, kwargs in (
            ("cloudpickle", {"serialization_format": "cloudpickle"}),
            ("skops", {"serialization_format": "skops", "skops_trusted_types": RF_TRUSTED}),
        ):
            ours = _run_log_model("tracklet", kwargs, tmp)
            theirs = _run_log_model("mlflow", kwargs, tmp)
            rows.append(
                (
                    f"sklearn.log_model RandomForest ({label}), 1st call",
                    f"{theirs[0]:.2f} s",
                    f"{ours[0]:.3f} s",
                    "<= 0.5 s",
                )
            )
            rows.append(
                (
                    f"sklearn.log_model RandomForest ({label}), 2nd call",
                    f"{theirs[1]:.2f} s",
                    f"{ours[1]:.3f} s",
                    "<= 0.5 s",
                )
            )
        if not args.skip_proxy:
            big = tmp / "big.bin"
            _make_file(big, args.gib)
            size = f"{args.gib:g} GiB"
            ours_p = _proxy_upload("tracklet", big, tmp)
            theirs_p = _proxy_upload("mlflow", big, tmp)
            rows.append(
                (
                    f"log_artifact {size} via proxy: server peak RSS above idle",
                    f"{theirs_p[1]:.0f} MiB (idle {theirs_p[0]:.0f})",
                    f"{ours_p[1]:.0f} MiB (idle {ours_p[0]:.0f})",
                    "<= 100 MiB",
                )
            )
            rows.append(
                (
                    f"log_artifact {size} via proxy: upload time",
                    f"{theirs_p[2]:.1f} s",
                    f"{ours_p[2]:.1f} s",
                    "",
                )
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    header = ("benchmark", "mlflow 3.17.2", "tracklet", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


if __name__ == "__main__":
    main()
