"""Spark: pyspark.ml autologging, datasource autologging and ``from_spark`` against MLflow
3.17.2, on one small local SparkSession for the whole module (starting one takes seconds)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.autolog.conftest import Oracle, Summary, assert_same_run

import tracklet

pytest.importorskip("pyspark")
# pyspark's toPandas uses pandas' deprecated `copy=` keyword, and py4j leaves sockets for the
# garbage collector: neither is tracklet's doing.
pytestmark = [
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]
if shutil.which("java") is None:  # pragma: no cover - .ci/run installs a Java runtime
    pytest.skip("no Java runtime for Spark", allow_module_level=True)


_HISTORY = "mlflow.log-model.history"
_PART = re.compile(r"part-(\d+)-[0-9a-f-]+")
_UID = re.compile(r"_[0-9a-f]{12}\b")  # a stage's random uid suffix


def assert_same_spark_run(ours: Summary, theirs: Summary) -> None:
    """``assert_same_run``, with Spark's random data-file names (``part-00000-<uuid>``) and
    their checksums made comparable."""
    for summary in (ours, theirs):
        summary.artifacts = sorted(
            _UID.sub("_uid", _PART.sub(r"part-\1", a)) for a in summary.artifacts
        )
    # The model history tag: the same entries, but for the ids and times of each run.
    history = [json.loads(s.tags.get(_HISTORY, "[]")) for s in (ours, theirs)]
    for entries in history:
        for entry in entries:
            for volatile in ("run_id", "utc_time_created", "model_uuid"):
                entry.pop(volatile, None)
    assert history[0] == history[1]
    # The evaluated DataFrame's plan holds the fitted model, another one in each run: its
    # digest (MLflow's plan hash) differs between any two fits, so only its name and context
    # are compared. The training data's digest must be the same.
    for summary in (ours, theirs):
        summary.inputs = sorted((n, d if c == "train" else "", c) for n, d, c in summary.inputs)
    ours.tags[_HISTORY] = theirs.tags.get(_HISTORY, "")
    if _HISTORY not in theirs.tags:
        del ours.tags[_HISTORY]
    assert_same_run(ours, theirs)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("tracklet-tests")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def frame(spark: Any) -> Any:
    rows = [(float(i % 7), float(i % 3), float((i % 7) + (i % 3) > 4)) for i in range(40)]
    return spark.createDataFrame(rows, ["a", "b", "label"]).cache()


def test_pipeline_fit_and_evaluation_match_mlflow(
    oracle: Oracle, frame: Any, tmp_path: Path
) -> None:
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.ml.feature import VectorAssembler

    def train() -> None:
        stages = [VectorAssembler(inputCols=["a", "b"], outputCol="features")]
        model = Pipeline(stages=[*stages, LogisticRegression(maxIter=5)]).fit(frame)
        test_df = frame
        BinaryClassificationEvaluator().evaluate(model.transform(test_df))

    theirs = oracle.mlflow("pyspark.ml", train)
    ours = oracle.tracklet("pyspark.ml", train)
    assert_same_spark_run(ours, theirs)
    assert ours.params["LogisticRegression.maxIter"] == "5"
    assert ours.params["stages"] == "['VectorAssembler', 'LogisticRegression']"
    assert ours.tags["estimator_class"] == "pyspark.ml.pipeline.Pipeline"
    assert "areaUnderROC_test_df" in ours.metrics
    assert {"estimator_info.json", "metric_info.json", "model/MLmodel"} <= set(ours.artifacts)
    assert sorted(context for _, _, context in ours.inputs) == ["eval", "train"]
    # MLflow loads tracklet's Spark model (run artifacts, as MLflow logs it) and predicts what
    # its own model predicts, with the same signature.
    import mlflow

    mine = tracklet.artifacts.download_artifacts(
        run_id=ours.run.info.run_id, artifact_path="model", dst_path=str(tmp_path / "ours")
    )
    oracle_dir = mlflow.artifacts.download_artifacts(
        run_id=theirs.run.info.run_id, artifact_path="model", dst_path=str(tmp_path / "theirs")
    )
    pdf = frame.limit(5).toPandas()[["a", "b"]]
    loaded = mlflow.pyfunc.load_model(mine)
    expected = mlflow.pyfunc.load_model(oracle_dir)
    assert list(loaded.predict(pdf)) == list(expected.predict(pdf))
    ours_signature, their_signature = loaded.metadata.signature, expected.metadata.signature
    assert ours_signature is not None
    assert their_signature is not None
    assert ours_signature.outputs == their_signature.outputs
    # MLflow gathers the feature columns in a set, so its order follows the process's string
    # hash seed; tracklet keeps the DataFrame's order.
    assert ours_signature.inputs.input_names() == ["a", "b"]
    by_name = lambda schema: sorted(schema.to_dict(), key=lambda c: c["name"])  # noqa: E731
    assert by_name(ours_signature.inputs) == by_name(their_signature.inputs)


def test_parameter_search_child_runs_match_mlflow(oracle: Oracle, frame: Any) -> None:
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.tuning import ParamGridBuilder, TrainValidationSplit

    data = VectorAssembler(inputCols=["a", "b"], outputCol="features").transform(frame)

    def train() -> None:
        lr = LogisticRegression(maxIter=3)
        grid = ParamGridBuilder().addGrid(lr.regParam, [0.0, 0.5]).build()
        search = TrainValidationSplit(
            estimator=lr, estimatorParamMaps=grid, evaluator=BinaryClassificationEvaluator(), seed=1
        )
        search.fit(data)

    theirs = oracle.mlflow("pyspark.ml", train, log_models=False)
    ours = oracle.tracklet("pyspark.ml", train, log_models=False)
    assert_same_spark_run(ours, theirs)
    assert {"search_results.csv", "best_parameters.json"} <= set(ours.artifacts)
    assert "best_LogisticRegression.regParam" in ours.params
    assert len(ours.children) == len(theirs.children) == 2
    for child, their_child in zip(
        sorted(ours.children, key=lambda r: r.data.params["regParam"]),
        sorted(theirs.children, key=lambda r: r.data.params["regParam"]),
        strict=True,
    ):
        assert child.data.params == their_child.data.params
        assert child.data.metrics == pytest.approx(their_child.data.metrics)
        assert child.data.tags["mlflow.autologging"] == "pyspark.ml"


def test_from_spark_records_what_mlflow_records(frame: Any) -> None:
    import mlflow.data

    ours = tracklet.data.from_spark(frame, targets="label", name="train")
    theirs = mlflow.data.from_spark(frame, targets="label", name="train")
    assert ours.digest == theirs.digest
    mine, their = ours.to_dict(), theirs.to_dict()
    assert mine["schema"] == their["schema"]
    assert mine["profile"] == their["profile"]
    assert mine["source_type"] == their["source_type"] == "code"
    table = tracklet.data.from_spark(frame, table_name="db.table")
    assert table.source.to_dict() == {"table_name": "db.table"}
    with pytest.raises(tracklet.exceptions.MlflowException, match="at most one"):
        tracklet.data.from_spark(frame, path="/x", sql="select 1")


def test_datasource_reads_tag_the_run(spark: Any, frame: Any, tmp_path: Path) -> None:
    from tracklet.autolog import patched
    from tracklet.spark._autolog import clear_table_infos

    path = tmp_path / "data.csv"
    frame.write.csv(str(path), header=True)
    tracklet.set_tracking_uri(f"sqlite:///{tmp_path / 'spark.db'}")
    tracklet.spark.autolog()
    try:
        with tracklet.start_run() as run:
            spark.read.csv(str(path), header=True)
            spark.read.format("csv").load(str(path))  # the same source: one line
        tag = tracklet.get_run(run.info.run_id).data.tags["sparkDatasourceInfo"]
        assert tag == f"path=file:{path},format=csv"
        with tracklet.start_run() as later:  # runs created afterwards carry it too
            pass
        assert tracklet.get_run(later.info.run_id).data.tags["sparkDatasourceInfo"] == tag
    finally:
        tracklet.spark.autolog(disable=True)
        clear_table_infos()
    assert patched("spark") == []
    with tracklet.start_run() as after:
        pass
    assert "sparkDatasourceInfo" not in tracklet.get_run(after.info.run_id).data.tags
