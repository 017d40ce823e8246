"""What a pyspark.ml fit logs before and after the user's ``fit``, and post-training metrics:
MLflow 3.17.2's keys, artifacts and child runs."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from tracklet.autolog import get_config, model_logger
from tracklet.autolog._training import (
    INPUT_EXAMPLE_SAMPLE_ROWS,
    resolve_input_example_and_signature,
)
from tracklet.pyspark.ml import _params as p
from tracklet.tracking import fluent_artifacts

_logger = logging.getLogger("tracklet.autolog")

_MAX_KEY = 250  # MLflow's MAX_ENTITY_KEY_LENGTH
_MAX_VALUE = 6000  # MLflow's MAX_PARAM_VAL_LENGTH
ALLOWLIST: list[frozenset[str]] = [p.LOG_MODEL_ALLOWLIST]  # set by autolog()


def truncate_params(params: dict[str, Any]) -> dict[str, Any]:
    """Keys and values longer than MLflow's limits cut (as strings); others left as they are."""
    return {
        (str(k)[:_MAX_KEY] if len(str(k)) > _MAX_KEY else k): (
            str(v)[:_MAX_VALUE] if len(str(v)) > _MAX_VALUE else v
        )
        for k, v in params.items()
    }


def _code_dataset(df: Any) -> Any:
    from tracklet.data.code_dataset_source import code_source_for_caller
    from tracklet.data.spark_dataset import SparkDataset

    return SparkDataset(df=df, source=code_source_for_caller())


def log_pretraining(flavor: str, estimator: Any, training_df: Any) -> p.EstimatorMetadata:
    from tracklet.tracking import fluent

    metadata = p.estimator_metadata(estimator)
    info: dict[str, Any] = {}
    if p.should_log_hierarchy(estimator):
        info["hierarchy"] = metadata.hierarchy
    for search in metadata.searches:
        info[metadata.names[search.uid]] = {
            "tuning_parameter_map_list": p.tuning_param_maps(search, metadata.names),
            "tuned_estimator_parameter_map": p.instance_params(
                search.getEstimator(), metadata.names, 1
            ),
        }
    if info:
        fluent_artifacts.log_dict(info, "estimator_info.json")
    fluent.log_params(truncate_params(p.instance_params(estimator, metadata.names)))
    fluent.set_tags(p.estimator_tags(estimator))
    if get_config(flavor, "log_datasets", True):
        try:
            fluent.log_input(_code_dataset(training_df), "train")
        except Exception as error:
            _logger.warning(
                "Failed to log training dataset information to MLflow Tracking. Reason: %s",
                error,
            )
    return metadata


def log_posttraining(
    flavor: str, estimator: Any, metadata: p.EstimatorMetadata, model: Any, training_df: Any
) -> None:
    if p.is_search_estimator(estimator):
        _log_search(flavor, estimator, metadata, model)
    if not get_config(flavor, "log_models", True):
        return
    if not p.should_log_model(model, ALLOWLIST[0]):
        _logger.warning(
            "Model %s will not be autologged because it is not allowlisted or or because one or "
            "more of its nested models are not allowlisted. Call mlflow.spark.log_model() to "
            "explicitly log the model, or specify a custom allowlist via the "
            "spark.mlflow.pysparkml.autolog.logModelAllowlistFile Spark conf (see "
            "mlflow.pyspark.ml.autolog docs for more info).",
            model.uid,
        )
        return
    example, signature = _example_and_signature(flavor, model, training_df)
    log = model_logger("spark")
    log(
        model,
        name="model",
        registered_model_name=get_config(flavor, "registered_model_name"),
        input_example=example,
        signature=signature,
    )
    if p.is_search_model(model):
        log(model.bestModel, name="best_model")


def _unsupported_columns(df: Any) -> list[Any]:
    import pyspark.sql.types as t
    from pyspark.ml.linalg import VectorUDT

    scalar = (
        t.ByteType,
        t.ShortType,
        t.IntegerType,
        t.LongType,
        t.FloatType,
        t.DoubleType,
        t.BooleanType,
        t.StringType,
        t.BinaryType,
        t.DateType,
        t.TimestampType,
    )
    return [f for f in df.schema.fields if not isinstance(f.dataType, (*scalar, VectorUDT))]


def feature_columns(df: Any, model: Any) -> list[str]:
    """The columns ``model.transform`` needs (MLflow's test: drop one, see whether it fails)."""
    import re

    from pyspark.errors.exceptions.base import IllegalArgumentException

    needed = []
    sample = df.limit(1).cache()
    for column in df.columns:
        try:
            model.transform(sample.drop(column))
        except IllegalArgumentException as error:
            if re.search(r"does not exist|no such struct field", str(error), re.IGNORECASE):
                needed.append(column)
                continue
            raise
    sample.unpersist()
    return needed


def infer_signature(model: Any, example_df: Any) -> Any:
    """Inputs: the example's columns; output: the unnamed ``prediction`` column (none if its
    type has no MLflow equivalent)."""
    from pyspark.ml import PipelineModel

    from tracklet.data.spark_dataset import spark_type
    from tracklet.models import ModelSignature
    from tracklet.types import ColSpec, Schema

    if isinstance(model, PipelineModel) and model.stages[-1].hasParam("outputCol"):
        session = example_df.sparkSession
        empty = model.transform(session.createDataFrame([], example_df.schema))
        if "prediction" not in empty.columns:
            last: Any = model.stages[-1]
            last.setOutputCol("prediction")
    output = model.transform(example_df).select("prediction")
    inputs = Schema(
        [
            ColSpec(spark_type(f.dataType, example_df, f.name), f.name)
            for f in example_df.schema.fields
        ]
    )
    if _unsupported_columns(output):
        _logger.warning(
            "Model outputs contain unsupported Spark data types: %s. Output schema is not be "
            "logged.",
            _unsupported_columns(output),
        )
        return ModelSignature(inputs=inputs)
    field = output.schema.fields[0]
    return ModelSignature(inputs=inputs, outputs=Schema([ColSpec(spark_type(field.dataType))]))


def _example_and_signature(flavor: str, model: Any, training_df: Any) -> tuple[Any, Any]:
    log_signatures = get_config(flavor, "log_model_signatures", True)
    if log_signatures and (unsupported := _unsupported_columns(training_df)):
        _logger.warning(
            "Model inputs contain unsupported Spark data types: %s. Model signature is not logged.",
            unsupported,
        )
        log_signatures = False
    try:
        model = model.copy()  # signature inference may set the last stage's output column
    except Exception:
        _logger.debug("Failed to copy the model, using the original model.", exc_info=True)

    def example() -> Any:
        columns = feature_columns(training_df, model)
        return training_df.select(columns).limit(INPUT_EXAMPLE_SAMPLE_ROWS)

    example_df, signature = resolve_input_example_and_signature(
        example,
        lambda df: infer_signature(model, df),
        get_config(flavor, "log_input_examples", False),
        log_signatures,
        _logger,
    )
    if example_df is None:
        return None, signature
    from pyspark.ml.functions import vector_to_array
    from pyspark.ml.linalg import VectorUDT

    for f in example_df.schema.fields:
        if isinstance(f.dataType, VectorUDT):
            example_df = example_df.withColumn(f.name, vector_to_array(f.name))
    return example_df.toPandas(), signature


def _log_search(flavor: str, search: Any, metadata: p.EstimatorMetadata, model: Any) -> None:
    from tracklet.tracking import fluent

    run = fluent.active_run()
    assert run is not None
    try:
        _child_runs(flavor, search, metadata, model, run)
    except Exception as error:
        _logger.warning(
            "Encountered exception during creation of child runs for parameter search. Child "
            "runs may be missing. Exception: %s",
            error,
        )
    maps = p.tuning_param_maps(search, metadata.names)
    metrics, best = p.search_metrics(search, model)
    _log_search_results(maps, metrics)
    fluent_artifacts.log_dict(maps[best], "best_parameters.json")
    fluent.log_params(truncate_params({f"best_{k}": v for k, v in maps[best].items()}))


def _log_search_results(maps: list[dict[str, Any]], metrics: dict[str, list[float]]) -> None:
    import os
    import tempfile

    import pandas as pd

    table: dict[str, list[Any]] = {"params": [json.dumps(m) for m in maps], **metrics}
    for m in maps:
        for name, value in m.items():
            table.setdefault(f"param.{name}", []).append(value)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "search_results.csv")
        pd.DataFrame.from_dict(table).to_csv(path, index=False)
        fluent_artifacts.log_artifact(path)


def _child_runs(
    flavor: str, search: Any, metadata: p.EstimatorMetadata, model: Any, parent: Any
) -> None:
    from tracklet.entities import Metric, Param
    from tracklet.tracking import system_tags
    from tracklet.tracking.context import current_client

    client = current_client()
    end_time = int(time.time() * 1000)
    metrics, _ = p.search_metrics(search, model)
    tuned = search.getEstimator()
    base_tags = system_tags.context_tags()
    base_tags["mlflow.autologging"] = flavor
    for i, candidate in enumerate(search.getEstimatorParamMaps()):
        child = tuned.copy(candidate)
        tags = {**base_tags, "mlflow.parentRunId": parent.info.run_id, **p.estimator_tags(child)}
        run = client.create_run(
            parent.info.experiment_id, start_time=parent.info.start_time, tags=tags
        )
        params = truncate_params(p.instance_params(child, metadata.names))
        client.log_batch(
            run.info.run_id,
            params=[Param(str(k), str(v)) for k, v in params.items()],
            metrics=[Metric(str(k), float(v[i]), end_time, 0) for k, v in metrics.items()],
        )
        client.set_terminated(run.info.run_id, end_time=end_time)


def log_post_training_metric(
    flavor: str, run_id: str, key: str, value: Any, info: dict[str, Any], predictions: Any
) -> None:
    """The metric, ``metric_info.json`` rewritten, and the evaluated data as an eval input."""
    from tracklet.entities import DatasetInput, InputTag
    from tracklet.tracking.context import current_client, dataset_entity

    client = current_client()
    client.log_metric(run_id, key, float(value))
    client.log_dict(run_id, info, "metric_info.json")
    if get_config(flavor, "log_datasets", True):
        try:
            dataset = _code_dataset(predictions)
            tags = [InputTag("mlflow.data.context", "eval")]
            client.log_inputs(run_id, [DatasetInput(dataset_entity(dataset), tags)])
        except Exception as error:
            _logger.warning(
                "Failed to log evaluation dataset information to MLflow Tracking. Reason: %s",
                error,
            )
