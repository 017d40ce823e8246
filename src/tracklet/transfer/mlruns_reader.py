"""Reading an MLflow ``mlruns`` directory (MLflow 3.17.2's FileStore layout), never importing
MLflow: plain dicts and tuples for ``mlruns_import`` to write.

The layout (``mlflow/store/tracking/file_store.py`` and ``model_registry/file_store.py``)::

    mlruns/<experiment id>/meta.yaml, tags/<key>        (.trash/<id>/ when deleted)
        datasets/<md5 of name and digest>/meta.yaml
        <run id>/meta.yaml, metrics/<key> ("timestamp value step" lines), params/<key>,
            tags/<key>, inputs/<id>/meta.yaml, outputs/<model id>/meta.yaml
        models/<model id>/meta.yaml, metrics/<key> ("timestamp value step run [dataset digest]"),
            params/<key>, tags/<key>
        traces/<trace id>/trace_info.yaml, tags/<key>, request_metadata/<key>
    mlruns/models/<name>/meta.yaml, tags/, aliases/<alias> (a version), version-<n>/meta.yaml, tags/

Keys may hold ``/``: a key is a file's path under its folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any, NoReturn

import yaml

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException

TRASH = ".trash"
REGISTRY = "models"
# Folders of an experiment directory that are not runs (FileStore.RESERVED_EXPERIMENT_FOLDERS).
RESERVED = frozenset({"tags", "datasets", "traces", "models"})
# RunStatus numbers as the meta files keep them.
RUN_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
Series = tuple[list[int], list[int], list[float]]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_THREE_FIELDS = re.compile(r"(?:[^ \n]+ [^ \n]+ [^ \n]+\n)*")


def read_yaml(directory: str, name: str = "meta.yaml") -> dict[str, Any] | None:
    """A meta file as a dict; None when it is missing or empty (a half-written entity)."""
    try:
        with open(os.path.join(directory, name), encoding="utf-8") as file:
            data = yaml.load(file, Loader=_Loader)
    except FileNotFoundError:
        return None
    return data if isinstance(data, dict) else None


def _files(folder: str) -> Iterator[tuple[str, str]]:
    """(key, path) of every file under ``folder``, the key its relative POSIX path."""
    for top, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(top, name)
            yield os.path.relpath(path, folder).replace(os.sep, "/"), path


def key_values(folder: str) -> dict[str, str]:
    """Params or tags: file name -> file contents."""
    out = {}
    for key, path in _files(folder):
        with open(path, encoding="utf-8") as file:
            out[key] = file.read()
    return out


def _lines(path: str) -> list[list[str]]:
    with open(path, encoding="utf-8") as file:
        return [line.split() for line in file if line.strip()]


def is_mlruns(path: str) -> bool:
    """A FileStore root: an experiment directory with a meta.yaml, or the ``.trash`` folder."""
    if not os.path.isdir(path):
        return False
    if os.path.isdir(os.path.join(path, TRASH)):
        return True
    return any(
        os.path.isfile(os.path.join(path, name, "meta.yaml"))
        for name in os.listdir(path)
        if name != REGISTRY
    )


def experiment_dirs(root: str) -> list[tuple[str, dict[str, Any]]]:
    """(directory, meta) of every experiment, active and deleted, by id."""
    found = []
    for parent in (root, os.path.join(root, TRASH)):
        if not os.path.isdir(parent):
            continue
        for name in os.listdir(parent):
            directory = os.path.join(parent, name)
            if name in (TRASH, REGISTRY) or not os.path.isdir(directory):
                continue
            meta = read_yaml(directory)
            if meta is not None and str(meta.get("experiment_id")) == name:
                found.append((directory, meta))
    return sorted(found, key=lambda item: (len(str(item[1]["experiment_id"])), item[0]))


def run_dirs(experiment_dir: str) -> list[str]:
    """The run directories of an experiment (those with a meta.yaml), sorted."""
    return sorted(
        os.path.join(experiment_dir, name)
        for name in os.listdir(experiment_dir)
        if name not in RESERVED and os.path.isfile(os.path.join(experiment_dir, name, "meta.yaml"))
    )


def datasets(experiment_dir: str) -> dict[str, dict[str, Any]]:
    """Dataset id -> its meta (name, digest, source_type, source, schema, profile)."""
    folder = os.path.join(experiment_dir, "datasets")
    if not os.path.isdir(folder):
        return {}
    out = {}
    for name in sorted(os.listdir(folder)):
        meta = read_yaml(os.path.join(folder, name))
        if meta is not None:
            out[name] = meta
    return out


def metric_series(run_dir: str) -> dict[str, Series]:
    """A run's metric histories: key -> (steps, timestamps, values), in the file's order."""
    out: dict[str, Series] = {}
    for key, path in _files(os.path.join(run_dir, "metrics")):
        with open(path, encoding="utf-8") as file:
            text = file.read()
        if text and not text.endswith("\n"):
            text += "\n"
        if _THREE_FIELDS.fullmatch(text):
            # What MLflow writes ("%s %s %s\n"), converted a column at a time: no list per line.
            tokens = text.split()
            try:
                series = (
                    list(map(int, tokens[2::3])),
                    list(map(int, tokens[0::3])),
                    list(map(float, tokens[1::3])),
                )
            except ValueError:
                pass  # the line-by-line reading below names the line
            else:
                if tokens:
                    out[key] = series
                continue
        steps, timestamps, values = [], [], []
        for number, parts in enumerate(_lines(path), 1):
            if len(parts) not in (2, 3, 5):
                _malformed(path, number, "2, 3 or 5 fields (timestamp value [step [dataset]])")
            try:
                timestamps.append(int(parts[0]))
                values.append(float(parts[1]))
                steps.append(int(parts[2]) if len(parts) > 2 else 0)
            except ValueError:
                _malformed(path, number, "an integer timestamp, a number and an integer step")
        if steps:
            out[key] = (steps, timestamps, values)
    return out


def _malformed(path: str, line: int, expected: str) -> NoReturn:
    raise MlflowException(
        f"Metric file {path}, line {line}: expected {expected}. Fix or remove the line and "
        "import again (what was imported is kept).",
        INVALID_PARAMETER_VALUE,
    )


def vertices(run_dir: str, folder: str) -> list[dict[str, Any]]:
    """A run's ``inputs`` or ``outputs`` meta files, by directory name."""
    parent = os.path.join(run_dir, folder)
    if not os.path.isdir(parent):
        return []
    found = (read_yaml(os.path.join(parent, name)) for name in sorted(os.listdir(parent)))
    return [meta for meta in found if meta is not None]


def model_dirs(experiment_dir: str) -> list[tuple[str, dict[str, Any]]]:
    """(directory, meta) of the experiment's logged models."""
    folder = os.path.join(experiment_dir, "models")
    if not os.path.isdir(folder):
        return []
    found = []
    for name in sorted(os.listdir(folder)):
        meta = read_yaml(os.path.join(folder, name))
        if meta is not None and meta.get("model_id") == name:
            found.append((os.path.join(folder, name), meta))
    return found


def model_metrics(model_dir: str) -> list[tuple[str, int, float, int, str, str | None, str | None]]:
    """(key, timestamp, value, step, run id, dataset name, dataset digest) of every point."""
    out = []
    for key, path in _files(os.path.join(model_dir, "metrics")):
        for number, parts in enumerate(_lines(path), 1):
            if len(parts) not in (4, 6):
                _malformed(path, number, "4 or 6 fields (timestamp value step run [dataset])")
            name, digest = (parts[4], parts[5]) if len(parts) == 6 else (None, None)
            try:
                point = (int(parts[0]), float(parts[1]), int(parts[2]))
            except ValueError:
                _malformed(path, number, "an integer timestamp, a number and an integer step")
            out.append((key, *point, parts[3], name, digest))
    return out


def trace_dirs(experiment_dir: str) -> list[tuple[str, dict[str, Any]]]:
    """(directory, trace_info.yaml) of the experiment's traces."""
    folder = os.path.join(experiment_dir, "traces")
    if not os.path.isdir(folder):
        return []
    found = []
    for name in sorted(os.listdir(folder)):
        info = read_yaml(os.path.join(folder, name), "trace_info.yaml")
        if info is not None:
            found.append((os.path.join(folder, name), info))
    return found


def registered_models(root: str) -> list[tuple[str, dict[str, Any]]]:
    """(directory, meta) of every registered model (``mlruns/models/<name>``)."""
    folder = os.path.join(root, REGISTRY)
    if not os.path.isdir(folder):
        return []
    found = []
    for name in sorted(os.listdir(folder)):
        meta = read_yaml(os.path.join(folder, name))
        if meta is not None:
            found.append((os.path.join(folder, name), meta))
    return found


def model_versions(model_dir: str) -> list[tuple[str, dict[str, Any]]]:
    """(directory, meta) of a registered model's versions."""
    found = []
    for name in sorted(os.listdir(model_dir)):
        if name.startswith("version-"):
            meta = read_yaml(os.path.join(model_dir, name))
            if meta is not None:
                found.append((os.path.join(model_dir, name), meta))
    return found
