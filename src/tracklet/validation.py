"""MLflow's limits and input checks (spec §7), raising INVALID_PARAMETER_VALUE.

Every message names the field and, where one applies, the limit. Checks run before anything is
written, so bad input changes nothing. Key checks are cached: a training loop logs the same few
keys millions of times, and validating each call from scratch would dominate the hot path.
"""

from __future__ import annotations

import logging
import math
import numbers
import posixpath
import re
from collections.abc import Iterable
from typing import Any

from tracklet import env
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.uri import check_artifact_location

_logger = logging.getLogger(__name__)

MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000
MAX_ARTIFACT_LOCATION_LENGTH = 2048
# The runs.name column (MLflow's too): SQLite ignores the length, PostgreSQL refuses more.
MAX_RUN_NAME_LENGTH = 250
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
MAX_ENTITIES_PER_BATCH = 1000
MAX_DATASET_NAME_SIZE = 500
MAX_DATASET_DIGEST_SIZE = 36
MAX_DATASET_SOURCE_SIZE = 65535
MAX_DATASET_SCHEMA_SIZE = 1048575
MAX_DATASET_PROFILE_SIZE = 16777215
MAX_INPUT_TAG_KEY_SIZE = 255
MAX_INPUT_TAG_VALUE_SIZE = 500
MAX_RESULTS_PER_PAGE = 50000
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_KEY_REGEX = re.compile(r"^[/\w.\- :]*$")
_BAD_CHARACTERS = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ),"
    " colon(:) and slashes (/)."
)

# Keys already checked; a training loop logs a few keys millions of times.
known_valid_keys: set[str] = set()
_VALID_KEY_CACHE_SIZE = 100_000


def invalid(message: str) -> MlflowException:
    return MlflowException(message, INVALID_PARAMETER_VALUE)


def invalid_value(path: str, value: Any, message: str | None = None) -> str:
    shown = repr(value) if isinstance(value, str) else str(value)
    if message:
        return f"Invalid value {shown} for parameter '{path}' supplied: {message}"
    return f"Invalid value {shown} for parameter '{path}' supplied."


def missing_value(path: str) -> str:
    return (
        f"Missing value for required parameter '{path}'. See the API docs for more information "
        "about request parameters."
    )


def exceeds_maximum_length(path: str, limit: int, length: int | None = None) -> str:
    got = f" (got {length})" if length is not None else ""
    return f"'{path}' exceeds the maximum length of {limit} characters{got}"


def _path_not_unique(name: str) -> bool:
    norm = posixpath.normpath(name)
    return norm != name or norm == "." or norm.startswith("..") or norm.startswith("/")


def validate_key(key: object, path: str = "key") -> str:
    """A metric, param or tag key: MLflow's characters, canonical as a path, ≤ 250 characters."""
    if isinstance(key, str) and key in known_valid_keys:
        return key
    if key is None or key == "":
        raise invalid(missing_value(path))
    if not isinstance(key, str):
        raise invalid(invalid_value(path, key, f"{path} must be a string."))
    if not _KEY_REGEX.match(key):
        raise invalid(invalid_value(path, key, _BAD_CHARACTERS))
    if _path_not_unique(key):
        raise invalid(
            invalid_value(
                path,
                key,
                "Names may be treated as files in certain cases, and must not resolve to other "
                f"names when treated as such. This name would resolve to "
                f"{posixpath.normpath(key)!r}",
            )
        )
    if len(key) > MAX_ENTITY_KEY_LENGTH:
        raise invalid(exceeds_maximum_length(path, MAX_ENTITY_KEY_LENGTH, len(key)))
    if len(known_valid_keys) >= _VALID_KEY_CACHE_SIZE:
        known_valid_keys.clear()
    known_valid_keys.add(key)
    return key


def limit_length(path: str, limit: int, value: str, *, truncate: bool) -> str:
    """``value`` within ``limit``: else truncated (MLflow's default for params, tags) or refused."""
    if len(value) <= limit:
        return value
    if truncate and env.MLFLOW_TRUNCATE_LONG_VALUES.get():
        _logger.warning(
            "%s '%s...' (%d characters) is truncated to %d characters to meet the length limit.",
            path,
            value[:100],
            len(value),
            limit,
        )
        return value[:limit]
    raise invalid(exceeds_maximum_length(path, limit, len(value)))


def validate_param(key: object, value: object, path: str = "") -> tuple[str, str]:
    """A param's key and value; non-string values are stringified as MLflow does."""
    key = validate_key(key, _join(path, "key"))
    text = "" if value is None else str(value)
    return key, limit_length(_join(path, "value"), MAX_PARAM_VAL_LENGTH, text, truncate=True)


def validate_tag(key: object, value: object, path: str = "") -> tuple[str, str]:
    key = validate_key(key, _join(path, "key"))
    text = "" if value is None else str(value)
    return key, limit_length(_join(path, "value"), MAX_TAG_VAL_LENGTH, text, truncate=True)


def validate_experiment_tag(key: object, value: object) -> tuple[str, str]:
    key = validate_key(key, "key")
    if len(key) > MAX_EXPERIMENT_TAG_KEY_LENGTH:
        raise invalid(exceeds_maximum_length("key", MAX_EXPERIMENT_TAG_KEY_LENGTH, len(key)))
    text = "" if value is None else str(value)
    return key, limit_length("value", MAX_EXPERIMENT_TAG_VAL_LENGTH, text, truncate=False)


def numeric_string_to_float(value: object) -> object:
    """A numeric str or bytes (``"0.9"``, ``" 1e3 "``, ``"nan"``) as a float, anything else as is.

    MLflow's client converts with ``float()`` before validating, so values read from argparse or a
    config file log as numbers; a non-numeric string stays a string and is refused by
    :func:`validate_metric_value`.
    """
    if isinstance(value, (str, bytes, bytearray)):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def validate_metric_value(key: str, value: object, timestamp: object, path: str = "") -> float:
    """A metric value as a float: any real number (NaN and ±inf included), never a bool or str."""
    if type(value) is float:
        return value
    if value is None:
        raise invalid(missing_value(_join(path, "value")))
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise invalid(
            invalid_value(
                _join(path, "value"),
                value,
                f"metric '{key}' (timestamp={timestamp}). "
                "Please specify value as a valid double (64-bit floating point)",
            )
        )
    number: Any = value
    try:
        return float(number)
    except OverflowError:
        # An int beyond float range is still a number; MLflow stores it as ±inf.
        return math.inf if number > 0 else -math.inf


def validate_timestamp(key: str, timestamp: object, path: str = "") -> int:
    if type(timestamp) is int and 0 <= timestamp <= INT64_MAX:
        return timestamp
    number: Any = timestamp
    is_real = isinstance(timestamp, numbers.Real) and not isinstance(timestamp, bool)
    if not is_real or not math.isfinite(number) or number < 0 or number > INT64_MAX:
        raise invalid(
            invalid_value(
                _join(path, "timestamp"),
                timestamp,
                f"metric '{key}': timestamp must be a nonnegative 64-bit integer of milliseconds",
            )
        )
    return int(number)


def validate_step(key: str, step: object, path: str = "") -> int:
    if type(step) is int and INT64_MIN <= step <= INT64_MAX:
        return step
    number: Any = step
    is_real = isinstance(step, numbers.Real) and not isinstance(step, bool)
    if not is_real or not math.isfinite(number) or number != int(number):
        raise invalid(
            invalid_value(
                _join(path, "step"),
                step,
                f"metric '{key}': step must be an integer in the 64-bit range",
            )
        )
    step = int(number)
    if not INT64_MIN <= step <= INT64_MAX:
        raise invalid(
            invalid_value(
                _join(path, "step"),
                step,
                f"metric '{key}': step must be within [{INT64_MIN}, {INT64_MAX}] (64-bit)",
            )
        )
    return step


def validate_param_keys_unique(keys: Iterable[str]) -> None:
    seen: set[str] = set()
    dupes = [k for k in keys if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
    if dupes:
        raise invalid(
            f"Duplicate parameter keys have been submitted: {dupes}. Please ensure the request "
            "contains only one param value per param key."
        )


def validate_batch_limits(n_metrics: int, n_params: int, n_tags: int) -> None:
    """MLflow's per-request log-batch limits, enforced where one request is one batch (REST)."""
    for name, limit, length in (
        ("metrics", MAX_METRICS_PER_BATCH, n_metrics),
        ("params", MAX_PARAMS_TAGS_PER_BATCH, n_params),
        ("tags", MAX_PARAMS_TAGS_PER_BATCH, n_tags),
        ("metrics, params, and tags", MAX_ENTITIES_PER_BATCH, n_metrics + n_params + n_tags),
    ):
        if length > limit:
            raise invalid(
                f"A batch logging request can contain at most {limit} {name}. Got {length} "
                f"{name}. Please split up {name} across multiple requests and try again."
            )


def validate_experiment_name(name: object) -> str:
    if name is None or name == "":
        raise invalid(f"Invalid experiment name: '{name if name is not None else ''}'")
    if not isinstance(name, str):
        raise invalid(f"Invalid experiment name: {name}. Expects a string.")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise invalid(exceeds_maximum_length("name", MAX_EXPERIMENT_NAME_LENGTH, len(name)))
    return name


def validate_artifact_location(location: str | None) -> None:
    if location is None:
        return
    if location.startswith("runs:"):
        raise invalid(
            f"Invalid value '{location}' for parameter 'artifact_location': an experiment's "
            "artifact location cannot be a runs:/ URI."
        )
    if len(location) > MAX_ARTIFACT_LOCATION_LENGTH:
        raise invalid(
            exceeds_maximum_length("artifact_location", MAX_ARTIFACT_LOCATION_LENGTH, len(location))
        )
    check_artifact_location(location)


def validate_run_name(name: str) -> str:
    """A run name that fits its column on every database (MLflow 500s on PostgreSQL)."""
    if len(name) > MAX_RUN_NAME_LENGTH:
        raise invalid(exceeds_maximum_length("run_name", MAX_RUN_NAME_LENGTH, len(name)))
    return name


def parse_experiment_id(experiment_id: object) -> int:
    """An experiment id as the integer the SQL store keys on; anything else is a 400."""
    if isinstance(experiment_id, bool):
        raise invalid(
            f"Invalid experiment ID '{experiment_id}'. Experiment ID must be a valid integer."
        )
    if isinstance(experiment_id, int) and INT64_MIN <= experiment_id <= INT64_MAX:
        return experiment_id
    if isinstance(experiment_id, str):
        # ASCII digits only: "²".isdigit() is true, and int() raises on it (a 500 once).
        digits = experiment_id.strip().lstrip("-")
        if digits.isascii() and digits.isdigit() and len(digits.lstrip("0")) <= 19:
            value = int(experiment_id)
            if INT64_MIN <= value <= INT64_MAX:
                return value
    raise invalid(
        f"Invalid experiment ID '{experiment_id}'. Experiment ID must be a valid integer."
    )


def validate_max_results(max_results: object, limit: int = MAX_RESULTS_PER_PAGE) -> int:
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise invalid(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be a "
            "positive integer"  # MLflow's text, without a period
        )
    if max_results > limit:
        raise invalid(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at "
            f"most {limit}"
        )
    return max_results


def validate_dataset(
    name: str, digest: str, source: str, schema: str | None, profile: str | None
) -> None:
    for path, value, limit in (
        ("dataset.name", name, MAX_DATASET_NAME_SIZE),
        ("dataset.digest", digest, MAX_DATASET_DIGEST_SIZE),
        ("dataset.source", source, MAX_DATASET_SOURCE_SIZE),
        ("dataset.schema", schema, MAX_DATASET_SCHEMA_SIZE),
        ("dataset.profile", profile, MAX_DATASET_PROFILE_SIZE),
    ):
        if value is not None and len(value) > limit:
            raise invalid(exceeds_maximum_length(path, limit, len(value)))
    if not name:
        raise invalid(missing_value("dataset.name"))
    if not digest:
        raise invalid(missing_value("dataset.digest"))


def validate_input_tag(key: str, value: str) -> None:
    if not key:
        raise invalid(missing_value("input_tag.key"))
    if len(key) > MAX_INPUT_TAG_KEY_SIZE:
        raise invalid(exceeds_maximum_length("input_tag.key", MAX_INPUT_TAG_KEY_SIZE, len(key)))
    if len(value) > MAX_INPUT_TAG_VALUE_SIZE:
        raise invalid(
            exceeds_maximum_length("input_tag.value", MAX_INPUT_TAG_VALUE_SIZE, len(value))
        )


def _join(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field
