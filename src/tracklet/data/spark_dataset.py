"""``SparkDataset`` and ``from_spark``: a Spark DataFrame as a tracked dataset.

The digest is MLflow's (the md5 of the DataFrame's semantic plan hash, not of its rows), so
the same DataFrame gets the same digest in both tools. pyspark is imported only when a
dataset is built from Spark. Delta tables (``version=``) need Delta Lake, which tracklet does
not support: such calls are refused.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from tracklet.data.dataset_source import DatasetSource
from tracklet.data.digest_utils import get_normalized_md5_digest
from tracklet.data.tabular_dataset import TabularDataset
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.types import Schema

_logger = logging.getLogger(__name__)


class SparkDatasetSource(DatasetSource):
    """A Spark table, a path (read back as Parquet) or a Spark SQL query."""

    def __init__(
        self, path: str | None = None, table_name: str | None = None, sql: str | None = None
    ) -> None:
        if (path, table_name, sql).count(None) != 2:
            raise MlflowException(
                'Must specify exactly one of "path", "table_name", or "sql"',
                INVALID_PARAMETER_VALUE,
            )
        self._path = path
        self._table_name = table_name
        self._sql = sql

    @staticmethod
    def _get_source_type() -> str:
        return "spark"

    def load(self, **kwargs: Any) -> Any:
        """The source as a Spark DataFrame (of the active or a new SparkSession)."""
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
        if self._path:
            return spark.read.parquet(self._path)
        if self._table_name:
            return spark.read.table(self._table_name)
        return spark.sql(str(self._sql))

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        return False

    @classmethod
    def _resolve(cls, raw_source: Any) -> SparkDatasetSource:
        raise NotImplementedError

    def to_dict(self) -> dict[Any, Any]:
        for key, value in (("path", self._path), ("table_name", self._table_name)):
            if value is not None:
                return {key: value}
        return {"sql": self._sql}

    @classmethod
    def from_dict(cls, source_dict: dict[Any, Any]) -> SparkDatasetSource:
        return cls(
            path=source_dict.get("path"),
            table_name=source_dict.get("table_name"),
            sql=source_dict.get("sql"),
        )


class SparkDataset(TabularDataset):
    """A Spark DataFrame with optional target and prediction columns."""

    _TABLE_DESCRIPTION = "Spark dataset"

    def __init__(
        self,
        df: Any,
        source: DatasetSource,
        targets: str | None = None,
        name: str | None = None,
        digest: str | None = None,
        predictions: str | None = None,
    ) -> None:
        self._df = df
        super().__init__(df.columns, source, targets, name, digest, predictions)

    def _compute_digest(self) -> str:
        import numpy as np

        # The semantic hash of the logical plan: cheap and deterministic, unlike hashing rows.
        return get_normalized_md5_digest([np.int64(self._df.semanticHash())])

    @property
    def df(self) -> Any:
        """The underlying Spark DataFrame."""
        return self._df

    @property
    def profile(self) -> Any | None:
        """``{"approx_count": n}``: the row count, or ``"unknown"`` for an empty result (as
        MLflow, which asks Spark for an approximate count with a 5 s timeout)."""
        try:
            count = int(self._df.rdd.countApprox(5000, 0.9))
            return {"approx_count": count if count > 0 else "unknown"}
        except Exception as e:
            _logger.warning(
                "Encountered an unexpected exception while computing Spark dataset profile."
                " Exception: %s",
                e,
            )
            return None

    @functools.cached_property
    def schema(self) -> Schema | None:
        """The columns' names and MLflow types (each required: MLflow leaves the default)."""
        from tracklet.types import ColSpec

        try:
            return Schema(
                [
                    ColSpec(spark_type(f.dataType, self._df, f.name), f.name)
                    for f in self._df.schema.fields
                ]
            )
        except Exception as e:
            _logger.warning("Failed to infer schema for Spark dataset. Exception: %s", e)
            return None


def spark_type(x: Any, data: Any = None, column: str | None = None) -> Any:
    """The MLflow type of a Spark SQL type (MLflow's mapping: dates and timestamps are
    ``datetime``, maps become objects of the keys found in the data, vectors ``SparkMLVector``).
    """
    import pyspark.sql.types as t
    from pyspark.ml.linalg import VectorUDT

    from tracklet.types import Array, DataType, Object, Property, SparkMLVector

    if isinstance(x, t.LongType):
        return DataType.long
    if isinstance(x, t.IntegralType):
        return DataType.integer
    simple = (
        (t.FloatType, DataType.float),
        (t.DoubleType, DataType.double),
        (t.BooleanType, DataType.boolean),
        (t.StringType, DataType.string),
        (t.BinaryType, DataType.binary),
        ((t.DateType, t.TimestampType), DataType.datetime),
    )
    for spark_types, mlflow_type in simple:
        if isinstance(x, spark_types):
            return mlflow_type
    if isinstance(x, t.ArrayType):
        return Array(spark_type(x.elementType))
    if isinstance(x, t.StructType):
        return Object(
            [Property(f.name, spark_type(f.dataType), required=not f.nullable) for f in x.fields]
        )
    if isinstance(x, t.MapType) and data is not None and column is not None:
        if isinstance(x.valueType, t.MapType):
            raise MlflowException(
                "Please construct spark DataFrame with schema using StructType for "
                "dictionary/map fields, MLflow schema inference only supports scalar, array "
                "and struct types."
            )
        rows = data.selectExpr(f"map_keys({column}) as keys").collect()
        keys = {key for row in rows for key in (row.keys or [])}
        return Object([Property(k, spark_type(x.valueType)) for k in keys])
    if isinstance(x, VectorUDT):
        return SparkMLVector()
    raise MlflowException.invalid_parameter_value(
        f"Unsupported Spark Type '{type(x)}' for MLflow schema."
    )


def from_spark(
    df: Any,
    path: str | None = None,
    table_name: str | None = None,
    version: str | None = None,
    sql: str | None = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    predictions: str | None = None,
) -> SparkDataset:
    """A tracked dataset from a Spark DataFrame, as ``mlflow.data.from_spark``.

    Args:
        df: A Spark DataFrame.
        path: The path the DataFrame was read from (reloaded as Parquet by ``source.load()``).
        table_name: The Spark table it came from.
        version: A Delta table version: refused (tracklet has no Delta Lake support).
        sql: The Spark SQL query that built it.
        targets: The name of the target column, which must be in ``df``.
        name: The dataset's name; ``"dataset"`` if None.
        digest: The dataset's digest; MLflow's plan-hash digest if None.
        predictions: The name of the predictions column, which must be in ``df``.

    Returns:
        A SparkDataset to pass to ``log_input``; its source is the calling code when none of
        ``path``, ``table_name`` and ``sql`` is given.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for more than one of ``path``, ``table_name``
            and ``sql``, for ``version`` (Delta), or for a missing target/prediction column.
    """
    if (path, table_name, sql).count(None) < 2:
        raise MlflowException(
            "Must specify at most one of `path`, `table_name`, or `sql`.",
            INVALID_PARAMETER_VALUE,
        )
    if version is not None:
        if sql is not None:
            raise MlflowException(
                "`version` may not be specified when `sql` is specified. `version` may only be"
                " specified when `table_name` or `path` is specified.",
                INVALID_PARAMETER_VALUE,
            )
        where = f"the path '{path}'" if path is not None else f"the table '{table_name}'"
        raise MlflowException(
            f"Version '{version}' was specified, but {where} does not refer to a Delta table"
            " (tracklet does not read Delta Lake tables).",
            INVALID_PARAMETER_VALUE,
        )
    source: DatasetSource
    if path is not None or table_name is not None or sql is not None:
        source = SparkDatasetSource(path=path, table_name=table_name, sql=sql)
    else:
        from tracklet.data.code_dataset_source import code_source_for_caller

        source = code_source_for_caller()
    return SparkDataset(
        df=df, source=source, targets=targets, name=name, digest=digest, predictions=predictions
    )
