"""What pyspark.ml autologging reads from an estimator: its params flattened over pipelines and
meta-estimators (with MLflow's indexed stage names), its hierarchy, parameter-search results, and
whether its fitted model is one MLflow logs. Names and formats are MLflow 3.17.2's."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any, NamedTuple

# MLflow's log_model_allowlist.txt: the fitted models autologging logs.
LOG_MODEL_ALLOWLIST = frozenset(
    {
        *(
            f"pyspark.ml.classification.{name}"
            for name in (
                "LinearSVCModel",
                "DecisionTreeClassificationModel",
                "GBTClassificationModel",
                "LogisticRegressionModel",
                "RandomForestClassificationModel",
                "NaiveBayesModel",
                "OneVsRestModel",
            )
        ),
        *(
            f"pyspark.ml.clustering.{name}"
            for name in ("BisectingKMeansModel", "KMeansModel", "GaussianMixtureModel")
        ),
        *(
            f"pyspark.ml.regression.{name}"
            for name in (
                "AFTSurvivalRegressionModel",
                "DecisionTreeRegressionModel",
                "GBTRegressionModel",
                "GeneralizedLinearRegressionModel",
                "LinearRegressionModel",
                "RandomForestRegressionModel",
            )
        ),
        *(
            f"pyspark.ml.feature.{name}"
            for name in (
                "BucketedRandomProjectionLSHModel",
                "ChiSqSelectorModel",
                "CountVectorizerModel",
                "IDFModel",
                "ImputerModel",
                "MaxAbsScalerModel",
                "MinHashLSHModel",
                "MinMaxScalerModel",
                "OneHotEncoderModel",
                "RobustScalerModel",
                "RFormulaModel",
                "StandardScalerModel",
                "StringIndexerModel",
                "VarianceThresholdSelectorModel",
                "VectorIndexerModel",
                "UnivariateFeatureSelectorModel",
            )
        ),
        "pyspark.ml.pipeline.PipelineModel",
        "pyspark.ml.tuning.CrossValidatorModel",
        "pyspark.ml.tuning.TrainValidationSplitModel",
        *(
            f"synapse.ml.{name}.*"
            for name in (
                "cognitive",
                "exploratory",
                "featurize",
                "geospatial",
                "image",
                "io",
                "isolationforest",
                "lightgbm",
                "nn",
                "opencv",
                "stages",
                "vw",
            )
        ),
    }
)


def qualified_name(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__name__}"


def estimator_tags(estimator: Any) -> dict[str, str]:
    return {
        "estimator_name": type(estimator).__name__,
        "estimator_class": qualified_name(estimator),
    }


def is_search_estimator(instance: Any) -> bool:
    from pyspark.ml.tuning import CrossValidator, TrainValidationSplit

    return isinstance(instance, (CrossValidator, TrainValidationSplit))


def is_search_model(instance: Any) -> bool:
    from pyspark.ml.tuning import CrossValidatorModel, TrainValidationSplitModel

    return isinstance(instance, (CrossValidatorModel, TrainValidationSplitModel))


def param_map(instance: Any) -> dict[str, Any]:
    return {p.name: instance.getOrDefault(p) for p in instance.params if instance.isDefined(p)}


def stage_type_params(instance: Any) -> dict[str, Any]:
    """The params whose values are themselves Params (a classifier, an evaluator...)."""
    from pyspark.ml.param import Params

    return {k: v for k, v in param_map(instance).items() if isinstance(v, Params)}


def should_log_model(model: Any, allowlist: frozenset[str] | set[str]) -> bool:
    from pyspark.ml.base import Model

    name = qualified_name(model)
    allowed = name in allowlist or any(
        entry.endswith("*") and name.startswith(entry[:-1]) for entry in allowlist
    )
    if not allowed:
        return False
    if name == "pyspark.ml.classification.OneVsRestModel":
        return should_log_model(model.models[0], allowlist)
    if name == "pyspark.ml.pipeline.PipelineModel":
        return all(should_log_model(s, allowlist) for s in model.stages if isinstance(s, Model))
    if is_search_model(model):
        return should_log_model(model.bestModel, allowlist)
    return all(
        should_log_model(v, allowlist) for v in param_map(model).values() if isinstance(v, Model)
    )


def should_log_hierarchy(estimator: Any) -> bool:
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import OneVsRest

    return (
        isinstance(estimator, (Pipeline, OneVsRest))
        or is_search_estimator(estimator)
        or any(stage_type_params(estimator))
    )


class EstimatorMetadata(NamedTuple):
    hierarchy: dict[str, Any]
    names: dict[str, str]  # uid -> indexed name ("LogisticRegression", "VectorAssembler_2")
    searches: list[Any]


def traverse(stage: Any) -> Iterator[Any]:
    from pyspark.ml import Pipeline

    yield stage
    if isinstance(stage, Pipeline):
        for sub in stage.getStages():
            yield from traverse(sub)
    else:
        for value in stage_type_params(stage).values():
            yield from traverse(value)


def indexed_names(estimator: Any) -> dict[str, str]:
    counter: defaultdict[str, int] = defaultdict(int)
    seen: dict[str, tuple[str, int]] = {}
    for child in traverse(estimator):
        name = type(child).__name__
        counter[name] += 1
        seen[child.uid] = (name, counter[name])
    return {uid: f"{n}_{i}" if counter[n] > 1 else n for uid, (n, i) in seen.items()}


def _hierarchy(stage: Any, names: dict[str, str]) -> dict[str, Any]:
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import OneVsRest

    name = names[stage.uid]
    if isinstance(stage, Pipeline):
        return {"name": name, "stages": [_hierarchy(s, names) for s in stage.getStages()]}
    if isinstance(stage, OneVsRest):
        return {"name": name, "classifier": _hierarchy(stage.getClassifier(), names)}
    if is_search_estimator(stage):
        return {
            "name": name,
            "evaluator": _hierarchy(stage.getEvaluator(), names),
            "tuned_estimator": _hierarchy(stage.getEstimator(), names),
        }
    params = stage_type_params(stage)
    if params:
        return {"name": name, "params": {k: _hierarchy(v, names) for k, v in params.items()}}
    return {"name": name}


def estimator_metadata(estimator: Any) -> EstimatorMetadata:
    names = indexed_names(estimator)
    searches = [s for s in traverse(estimator) if is_search_estimator(s)]
    return EstimatorMetadata(_hierarchy(estimator, names), names, searches)


def instance_params(instance: Any, names: dict[str, str], level: int = 0) -> dict[str, Any]:
    """The params MLflow logs: nested stages' params prefixed with their indexed names."""
    from pyspark.ml.param import Params
    from pyspark.ml.pipeline import Pipeline

    prefix = "" if level == 0 else names[instance.uid] + "."
    search = is_search_estimator(instance)
    out: dict[str, Any] = {}
    for name, value in param_map(instance).items():
        key = prefix + name
        if isinstance(instance, Pipeline) and name == "stages":
            out[key] = [names[s.uid] for s in instance.getStages()]
            for stage in instance.getStages():
                out.update(instance_params(stage, names, level + 1))
        elif search and name == "estimator":
            out[key] = names[value.uid]  # its params go to estimator_info.json and children
        elif search and name == "estimatorParamMaps":
            pass
        elif isinstance(value, Params):
            out[key] = names[value.uid]
            out.update(instance_params(value, names, level + 1))
        else:
            out[key] = value
    return out


def tuning_param_maps(search: Any, names: dict[str, str]) -> list[dict[str, Any]]:
    def key(param: Any) -> str:
        if param.parent not in names:
            raise ValueError(
                "Tuning params should not include params not owned by the tuned estimator, but "
                f"found a param {param}"
            )
        return f"{names[param.parent]}.{param.name}"

    return [{key(k): v for k, v in m.items()} for m in search.getEstimatorParamMaps()]


def search_metrics(search: Any, model: Any) -> tuple[dict[str, list[float]], int]:
    """({metric name: value per candidate}, index of the best candidate)."""
    import numpy as np
    from pyspark.ml.tuning import CrossValidatorModel

    metric = search.getEvaluator().getMetricName()
    metrics: dict[str, list[float]] = {}
    if isinstance(model, CrossValidatorModel):
        averages = model.avgMetrics
        metrics["avg_" + metric] = averages
        if hasattr(model, "stdMetrics"):
            metrics["std_" + metric] = model.stdMetrics
    else:
        averages = model.validationMetrics
        metrics[metric] = averages
    best = np.argmax(averages) if search.getEvaluator().isLargerBetter() else np.argmin(averages)
    return metrics, int(best)
