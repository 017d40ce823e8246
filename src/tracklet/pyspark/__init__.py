"""PySpark integrations: ``tracklet.pyspark.ml.autolog`` (Spark MLlib estimators).

``tracklet.pyspark.ml`` is imported on first access, as ``mlflow.pyspark.ml`` is reached."""

from __future__ import annotations


def __getattr__(name: str) -> object:
    if name == "ml":
        import importlib

        return importlib.import_module("tracklet.pyspark.ml")
    raise AttributeError(f"module 'tracklet.pyspark' has no attribute {name!r}")
