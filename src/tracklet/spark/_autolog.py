"""``tracklet.spark.autolog``: the Spark datasources a program reads, as the run tag
``sparkDatasourceInfo`` (MLflow's name and format: one ``path=...,format=...`` line per source).

MLflow gets the reads from a JVM listener shipped in its ``mlflow-spark`` JAR; tracklet needs no
JAR: it patches ``DataFrameReader``'s read methods and reads each new DataFrame's analyzed plan
(the file relations' root paths and format short names, what that listener reports). A read
while a run is active tags that run; every read is also remembered and tags each run created
afterwards (MLflow's context provider does the same).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from tracklet.autolog import autologging_integration, is_disabled, safe_patch

_logger = logging.getLogger("tracklet.autolog")

FLAVOR_NAME = "spark"
TAG = "sparkDatasourceInfo"
_MAX_TAG_LENGTH = 8000  # MLflow's MAX_TAG_VAL_LENGTH
_READ_METHODS = ("load", "table", "csv", "json", "parquet", "orc", "text")

_lock = threading.Lock()
_table_infos: list[tuple[str, str | None, str]] = []


@autologging_integration(FLAVOR_NAME)
def autolog(disable: bool = False, silent: bool = False) -> None:
    """Enable (or disable) tagging runs with the Spark datasources the program reads.

    Args:
        disable: Remove the patches (datasources read so far stay remembered).
        silent: No warnings from autologging.
    """
    from pyspark.sql.readwriter import DataFrameReader

    from tracklet.tracking import system_tags

    for name in _READ_METHODS:
        safe_patch(FLAVOR_NAME, DataFrameReader, name, _patched_read)
    system_tags.register_context_provider(_context_tags)


def _patched_read(original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    df = original(self, *args, **kwargs)
    for info in datasource_infos(df):
        _record(*info)
    return df


def datasource_infos(df: Any) -> list[tuple[str, str | None, str]]:
    """(path, version, format) of each file relation in ``df``'s analyzed plan."""
    plan = df._jdf.queryExecution().analyzed()
    found: list[tuple[str, str | None, str]] = []
    leaves = plan.collectLeaves()
    for i in range(leaves.size()):
        leaf = leaves.apply(i)
        if leaf.getClass().getSimpleName() != "LogicalRelation":
            continue
        relation = leaf.relation()
        if relation.getClass().getSimpleName() != "HadoopFsRelation":
            continue
        file_format = relation.fileFormat()
        try:
            data_format = str(file_format.shortName())
        except Exception:  # a format that is not registered under a short name
            data_format = str(file_format.toString()).lower()
        roots = relation.location().rootPaths()
        for j in range(roots.size()):
            found.append((str(roots.apply(j).toString()), None, data_format))
    return found


def table_info_string(path: str, version: str | None, data_format: str) -> str:
    """One line of the tag (the version only for Delta tables, as MLflow)."""
    if data_format == "delta":
        return f"path={path},version={version},format={data_format}"
    return f"path={path},format={data_format}"


def _truncate(value: str) -> str:
    if len(value) <= _MAX_TAG_LENGTH:
        return value
    return value[: _MAX_TAG_LENGTH - 3] + "..."


def _record(path: str, version: str | None, data_format: str) -> None:
    from tracklet.tracking import fluent

    with _lock:
        _table_infos.append((path, version, data_format))
    run = fluent.active_run()
    if run is None:
        return
    try:
        client = run.client
        run_id = run.info.run_id
        existing = client.get_run(run_id).data.tags.get(TAG)
        line = table_info_string(path, version, data_format)
        if existing is None:
            value = line
        elif line in existing:
            return
        else:
            value = f"{existing}\n{line}"
        client.set_tag(run_id, TAG, _truncate(value))
    except Exception as error:
        _logger.error(
            "Unexpected exception %s while attempting to log Spark datasource info.", error
        )


def _context_tags() -> dict[str, str]:
    if is_disabled(FLAVOR_NAME):
        return {}
    with _lock:
        unique = list(dict.fromkeys(_table_infos))
    if not unique:
        return {}
    return {TAG: _truncate("\n".join(table_info_string(*info) for info in unique))}


def clear_table_infos() -> None:
    """Forget the datasources read so far (new runs get no tag from them)."""
    with _lock:
        _table_infos.clear()
