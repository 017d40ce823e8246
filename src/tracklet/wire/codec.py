"""Entities <-> JSON objects in MLflow's wire shapes (spec §9).

``*_to_json`` build response objects the way MLflow's server emits them (unset fields omitted,
empty lists omitted, NaN/±Infinity as strings); ``*_from_json`` read them back (the REST store)
and decode request messages (the server), raising MLflow's 400 errors on bad input. The message
decoders are registered in :data:`MESSAGE_DECODERS` under their proto names, which is how the
endpoint table's ``MESSAGE`` fields find them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any

from tracklet import validation
from tracklet.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    ExperimentTag,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunTag,
)
from tracklet.validation import INT64_MAX, INT64_MIN
from tracklet.wire.values import (
    as_double,
    as_int,
    as_string,
    encode_double,
    missing,
    optional_string,
    wrong_type,
)

JsonObject = dict[str, Any]

# ------------------------------------------------------------------------------- encoding


def key_values(items: Mapping[str, str]) -> list[JsonObject]:
    return [{"key": k, "value": v} for k, v in items.items()]


def experiment_to_json(experiment: Experiment) -> JsonObject:
    out: JsonObject = {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage,
    }
    if experiment.last_update_time is not None:
        out["last_update_time"] = experiment.last_update_time
    if experiment.creation_time is not None:
        out["creation_time"] = experiment.creation_time
    if experiment.tags:
        out["tags"] = key_values(experiment.tags)
    return out


def metric_to_json(metric: Metric, run_id: str | None = None) -> JsonObject:
    out: JsonObject = {
        "key": metric.key,
        "value": encode_double(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }
    if metric.dataset_name is not None:
        out["dataset_name"] = metric.dataset_name
    if metric.dataset_digest is not None:
        out["dataset_digest"] = metric.dataset_digest
    if metric.model_id is not None:
        out["model_id"] = metric.model_id
    if run_id is not None:
        out["run_id"] = run_id
    return out


def run_info_to_json(info: RunInfo) -> JsonObject:
    out: JsonObject = {
        "run_id": info.run_id,
        "run_uuid": info.run_id,  # deprecated duplicate that old clients still read
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": info.status,
        "lifecycle_stage": info.lifecycle_stage,
    }
    if info.run_name is not None:
        out["run_name"] = info.run_name
    if info.start_time is not None:
        out["start_time"] = info.start_time
    if info.end_time is not None:
        out["end_time"] = info.end_time
    if info.artifact_uri is not None:
        out["artifact_uri"] = info.artifact_uri
    return out


def run_data_to_json(data: RunData) -> JsonObject:
    out: JsonObject = {}
    metrics = data.metric_objs or [
        Metric(k, v, 0, 0) for k, v in data.metrics.items()
    ]  # entities built from dicts only carry values
    if metrics:
        out["metrics"] = [metric_to_json(m) for m in metrics]
    if data.params:
        out["params"] = key_values(data.params)
    if data.tags:
        out["tags"] = key_values(data.tags)
    return out


def dataset_to_json(dataset: Dataset) -> JsonObject:
    out: JsonObject = {
        "name": dataset.name,
        "digest": dataset.digest,
        "source_type": dataset.source_type,
        "source": dataset.source,
    }
    if dataset.schema is not None:
        out["schema"] = dataset.schema
    if dataset.profile is not None:
        out["profile"] = dataset.profile
    return out


def dataset_input_to_json(dataset_input: DatasetInput) -> JsonObject:
    out: JsonObject = {"dataset": dataset_to_json(dataset_input.dataset)}
    if dataset_input.tags:
        out["tags"] = [{"key": t.key, "value": t.value} for t in dataset_input.tags]
    return out


def run_inputs_to_json(inputs: RunInputs) -> JsonObject:
    out: JsonObject = {}
    if inputs.dataset_inputs:
        out["dataset_inputs"] = [dataset_input_to_json(d) for d in inputs.dataset_inputs]
    if inputs.model_inputs:
        out["model_inputs"] = [{"model_id": m.model_id} for m in inputs.model_inputs]
    return out


def run_to_json(run: Run) -> JsonObject:
    out: JsonObject = {
        "info": run_info_to_json(run.info),
        "data": run_data_to_json(run.data),
        "inputs": run_inputs_to_json(run.inputs) if run.inputs else {},
    }
    if run.outputs and run.outputs.model_outputs:
        out["outputs"] = {
            "model_outputs": [
                {"model_id": m.model_id, "step": m.step} for m in run.outputs.model_outputs
            ]
        }
    return out


# ------------------------------------------------------------------------------- decoding


def _object(value: object, path: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise wrong_type(path, value)
    return value


def _required(obj: dict[str, Any], name: str, path: str) -> Any:
    value = obj.get(name)
    if value is None or value == "":
        raise missing(f"{path}.{name}" if path else name)
    return value


def metric_from_json(value: object, path: str = "metric") -> Metric:
    """A Metric from a request or response object; key, value and timestamp are required."""
    obj = _object(value, path)
    key = obj.get("key")
    number = obj.get("value")
    timestamp = obj.get("timestamp")
    step = obj.get("step", 0)
    if (
        type(key) is str
        and key
        and type(number) is float
        and type(timestamp) is int
        and type(step) is int
        and INT64_MIN <= step <= INT64_MAX  # else as_int below says what is wrong
        and INT64_MIN <= timestamp <= INT64_MAX
        and "model_id" not in obj
        and "dataset_name" not in obj
        and "dataset_digest" not in obj
    ):
        return Metric(key, number, timestamp, step)  # the common case, checked at a glance
    key = as_string(_required(obj, "key", path), f"{path}.key")
    number = as_double(_required(obj, "value", path), f"{path}.value")
    timestamp = as_int(_required(obj, "timestamp", path), f"{path}.timestamp")
    step = 0 if step is None else as_int(step, f"{path}.step")
    return Metric(
        key,
        number,
        timestamp,
        step,
        optional_string(obj, "dataset_name", path),
        optional_string(obj, "dataset_digest", path),
        optional_string(obj, "model_id", path),
    )


# One metric's points as columns: (steps, timestamps, values).
Columns = tuple[list[int], list[int], list[float]]
_LINK_FIELDS = ("model_id", "dataset_name", "dataset_digest")


_NO_KEY = object()


def _plain_columns(items: list[Any]) -> dict[str, Columns] | None:
    """The common case at full speed: every point an object of exactly ``key``, ``value`` (a
    float), ``timestamp`` and ``step`` (ints in range). None otherwise (the caller then takes
    the careful path, which also names what is wrong)."""
    series: dict[str, Columns] = {}
    last_key: object = _NO_KEY  # so the first point sets the appenders below
    columns: Columns = ([], [], [])
    add_step, add_timestamp, add_value = columns[0].append, columns[1].append, columns[2].append
    for obj in items:
        try:
            key = obj["key"]
            value = obj["value"]
            timestamp = obj["timestamp"]
            step = obj["step"]
        except (KeyError, TypeError, AttributeError):
            return None
        if (
            value.__class__ is not float
            or timestamp.__class__ is not int
            or step.__class__ is not int
            or not 0 <= timestamp <= INT64_MAX
            or not INT64_MIN <= step <= INT64_MAX
            or len(obj) != 4  # anything more (a model or dataset link): the careful path
        ):
            return None
        if key != last_key:  # checked once per run of points with one key
            if key.__class__ is not str or not key:
                return None
            found = series.get(key)
            if found is None:
                found = series[key] = ([], [], [])
            columns, last_key = found, key
            add_step, add_timestamp, add_value = (
                columns[0].append,
                columns[1].append,
                columns[2].append,
            )
        add_step(step)
        add_timestamp(timestamp)
        add_value(value)
    return series


_KEY, _STEP, _TIMESTAMP, _VALUE = map(itemgetter, ("key", "step", "timestamp", "value"))
_INT, _FLOAT = frozenset({int}), frozenset({float})


def plain_metric_points(
    items: list[Any],
) -> tuple[list[str], list[int], list[int], list[float]] | None:
    """Log-batch metric objects as parallel columns (keys, steps, timestamps, values) when
    every one is plain: exactly ``key`` (a non-empty string), ``value`` (a float),
    ``timestamp`` and ``step`` (ints in range), as ``_plain_columns`` requires. Checked by
    C-level passes over the columns, no Python work per point. None otherwise (or if empty):
    the caller takes the careful path, which also names what is wrong. Keys are not checked
    against MLflow's key rules here."""
    if not items:
        return None
    try:  # a column per field (cheaper than a tuple per object, then transposed)
        keys = list(map(_KEY, items))
        steps = list(map(_STEP, items))
        timestamps = list(map(_TIMESTAMP, items))
        values = list(map(_VALUE, items))
    except (KeyError, TypeError, IndexError):  # not all objects, or a field missing
        return None
    if sum(map(len, items)) != 4 * len(items):  # each has the four: so nothing more either
        return None  # (a model or dataset link, or an unknown field)
    try:
        "".join(keys)  # every key a string (JSON gives no subclasses): else a TypeError
    except TypeError:
        return None
    if set(map(type, values)) != _FLOAT or not all(keys):  # not all(keys): an empty key
        return None
    bounds = _int_bounds(timestamps)
    if bounds is None or bounds[0] < 0 or bounds[1] > INT64_MAX:
        return None
    bounds = _int_bounds(steps)
    if bounds is None or bounds[0] < INT64_MIN or bounds[1] > INT64_MAX:
        return None
    return keys, steps, timestamps, values


def _int_bounds(numbers: list[Any]) -> tuple[int, int] | None:
    """``(min, max)`` of a column of ints; None if any item is not an int (a bool
    or a float included). A column of one repeated number (a step of many keys, or its
    timestamp) by two C passes (equality, a sum) instead of a type check per item: every item
    equals the first, an int other than 0 and 1 (which True and False equal), and the sum is an
    int, so no item is a float either."""
    first = numbers[0]
    if (
        type(first) is int
        and (first > 1 or first < 0)
        and numbers[-1] == first  # else not all one number: no counting pass
        and numbers.count(first) == len(numbers)
        and type(sum(numbers)) is int
    ):
        return first, first
    if set(map(type, numbers)) != _INT:
        return None
    return min(numbers), max(numbers)


def metric_columns_from_json(items: list[Any], path: str = "metrics") -> dict[str, Columns] | None:
    """Plain metric objects grouped into columns per key, checked as ``metric_from_json`` checks
    them, without building a Metric per point (the log-batch hot path). None if any point links
    a model or dataset: those need the entity path."""
    plain = _plain_columns(items)
    if plain is not None:
        return plain
    series: dict[str, Columns] = {}
    for i, obj in enumerate(items):
        key = value = timestamp = None
        step: Any = 0
        if type(obj) is dict:
            key = obj.get("key")
            value = obj.get("value")
            timestamp = obj.get("timestamp")
            step = obj.get("step", 0)
        if not (
            type(key) is str
            and key
            and type(value) is float
            and type(timestamp) is int
            and type(step) is int
            and -(2**63) <= step < 2**63
            and 0 <= timestamp < 2**63
        ):
            where = f"{path}[{i}]"
            metric = metric_from_json(obj, where)  # raises MLflow's 400 if bad
            if metric.model_id or metric.dataset_name or metric.dataset_digest:
                return None
            validation.validate_timestamp(metric.key, metric.timestamp, where)
            key, value, timestamp, step = metric.key, metric.value, metric.timestamp, metric.step
        elif _LINK_FIELDS[0] in obj or _LINK_FIELDS[1] in obj or _LINK_FIELDS[2] in obj:
            return None
        columns = series.get(key)
        if columns is None:
            columns = series[key] = ([], [], [])
        columns[0].append(step)
        columns[1].append(timestamp)
        columns[2].append(value)
    return series


def _key_value(value: object, path: str) -> tuple[str, str]:
    obj = _object(value, path)
    key = as_string(_required(obj, "key", path), f"{path}.key")
    text = obj.get("value")
    return key, "" if text is None else as_string(text, f"{path}.value")


def param_from_json(value: object, path: str = "param") -> Param:
    return Param(*_key_value(value, path))


def run_tag_from_json(value: object, path: str = "tag") -> RunTag:
    return RunTag(*_key_value(value, path))


def experiment_tag_from_json(value: object, path: str = "tag") -> ExperimentTag:
    return ExperimentTag(*_key_value(value, path))


def input_tag_from_json(value: object, path: str = "tag") -> InputTag:
    return InputTag(*_key_value(value, path))


def dataset_from_json(value: object, path: str = "dataset") -> Dataset:
    obj = _object(value, path)
    return Dataset(
        name=as_string(_required(obj, "name", path), f"{path}.name"),
        digest=as_string(_required(obj, "digest", path), f"{path}.digest"),
        source_type=as_string(_required(obj, "source_type", path), f"{path}.source_type"),
        source=as_string(_required(obj, "source", path), f"{path}.source"),
        schema=optional_string(obj, "schema", path),
        profile=optional_string(obj, "profile", path),
    )


def dataset_input_from_json(value: object, path: str = "dataset_input") -> DatasetInput:
    obj = _object(value, path)
    tags = _list(obj.get("tags"), f"{path}.tags", input_tag_from_json)
    return DatasetInput(dataset_from_json(_required(obj, "dataset", path), f"{path}.dataset"), tags)


def model_input_from_json(value: object, path: str = "model_input") -> LoggedModelInput:
    obj = _object(value, path)
    return LoggedModelInput(as_string(_required(obj, "model_id", path), f"{path}.model_id"))


def model_output_from_json(value: object, path: str = "model_output") -> LoggedModelOutput:
    obj = _object(value, path)
    model_id = as_string(_required(obj, "model_id", path), f"{path}.model_id")
    step = obj.get("step")
    return LoggedModelOutput(model_id, 0 if step is None else as_int(step, f"{path}.step"))


def _list(value: object, path: str, decode: Callable[[object, str], Any]) -> list[Any]:
    if value is None:
        return []
    if type(value) is not list:
        raise wrong_type(path, value)
    return [decode(item, f"{path}[{i}]") for i, item in enumerate(value)]


def experiment_from_json(obj: JsonObject) -> Experiment:
    tags = _list(obj.get("tags"), "tags", experiment_tag_from_json)
    return Experiment(
        experiment_id=str(obj["experiment_id"]),
        name=obj.get("name", ""),
        artifact_location=obj.get("artifact_location", ""),
        lifecycle_stage=obj.get("lifecycle_stage", "active"),
        tags={t.key: t.value for t in tags},
        creation_time=_optional_int(obj.get("creation_time")),
        last_update_time=_optional_int(obj.get("last_update_time")),
    )


def _optional_int(value: object) -> int | None:
    return None if value is None else as_int(value, "value")


def run_info_from_json(obj: JsonObject) -> RunInfo:
    return RunInfo(
        run_id=obj.get("run_id") or obj["run_uuid"],
        experiment_id=str(obj.get("experiment_id", "")),
        user_id=obj.get("user_id", ""),
        status=obj.get("status", "RUNNING"),
        start_time=_optional_int(obj.get("start_time")),
        end_time=_optional_int(obj.get("end_time")),
        lifecycle_stage=obj.get("lifecycle_stage", "active"),
        artifact_uri=obj.get("artifact_uri"),
        run_name=obj.get("run_name"),
    )


def run_from_json(obj: JsonObject) -> Run:
    data = obj.get("data") or {}
    inputs = obj.get("inputs") or {}
    outputs = obj.get("outputs") or {}
    return Run(
        info=run_info_from_json(obj["info"]),
        data=RunData.from_entities(
            metrics=_list(data.get("metrics"), "metrics", metric_from_json),
            params=_list(data.get("params"), "params", param_from_json),
            tags=_list(data.get("tags"), "tags", run_tag_from_json),
        ),
        inputs=RunInputs(
            dataset_inputs=_list(
                inputs.get("dataset_inputs"), "dataset_inputs", dataset_input_from_json
            ),
            model_inputs=_list(inputs.get("model_inputs"), "model_inputs", model_input_from_json),
        ),
        outputs=RunOutputs(
            model_outputs=_list(
                outputs.get("model_outputs"), "model_outputs", model_output_from_json
            )
        ),
    )


def _json_object(value: object, path: str) -> dict[str, Any]:
    return _object(value, path)


MESSAGE_DECODERS: dict[str, Callable[[object, str], Any]] = {
    "Object": _json_object,
    "Metric": metric_from_json,
    "Param": param_from_json,
    "RunTag": run_tag_from_json,
    "ExperimentTag": experiment_tag_from_json,
    "DatasetInput": dataset_input_from_json,
    "ModelInput": model_input_from_json,
    "ModelOutput": model_output_from_json,
}
