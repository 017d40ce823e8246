"""Which fields each searchable entity has, and what may be compared with them (spec §6.1-§6.5).

One :class:`Grammar` per entity (runs, experiments, logged models, traces) drives the one parser.
Differences between entities are MLflow's, kept on purpose: experiments reject the
``attributes.`` prefix, logged models accept only plural prefixes and no ``IS NULL``, and so on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from tracklet.search.ast import LIST_OPS, NULL_OPS, NUMERIC_OPS, Kind, Op


class Numbers(Enum):
    """How a field keeps numeric literals."""

    FLOAT = "float"  # always a float (metrics)
    NUMBER = "number"  # int if written as an integer, else float (run timestamps)
    INTEGER = "integer"  # integers only; a float literal is an error (experiment timestamps)


@dataclass(frozen=True, slots=True)
class Field:
    """What may be compared with one field: comparators for string and for numeric literals.

    ``IS [NOT] NULL`` and ``[NOT] IN`` (string lists) are listed among ``string_ops``.
    """

    label: str  # names the field in error messages: "metric", "numeric attribute 'end_time'"
    string_ops: frozenset[Op] = frozenset()
    number_ops: frozenset[Op] = frozenset()
    numbers: Numbers = Numbers.FLOAT
    integer_strings: bool = False  # string values are integer ids (experiment_id)

    @property
    def ops(self) -> frozenset[Op]:
        return self.string_ops | self.number_ops


@dataclass(frozen=True)
class Grammar:
    """The searchable fields of one entity.

    Attributes:
        entity: the entity's name in messages ("runs").
        prefixes: accepted identifier prefixes (``metric``, ``metrics``...) and their kind.
        attributes: accepted attribute spellings -> (canonical key, field).
        kinds: kinds whose keys are free (any metric key), with their field.
        keyed: kinds with a fixed key set (``datasets.name``); a key ending in "." matches
            every key that starts with it (``span.attributes.<name>``).
        order_kinds: kinds that ``order_by`` accepts.
        order_attributes: attribute spellings ``order_by`` accepts -> canonical key.
    """

    entity: str
    prefixes: Mapping[str, Kind]
    attributes: Mapping[str, tuple[str, Field]]
    kinds: Mapping[Kind, Field] = field(default_factory=dict)
    keyed: Mapping[Kind, Mapping[str, Field]] = field(default_factory=dict)
    order_kinds: frozenset[Kind] = frozenset({Kind.ATTRIBUTE})
    order_attributes: Mapping[str, str] = field(default_factory=dict)

    def keyed_field(self, kind: Kind, key: str) -> Field | None:
        fields = self.keyed[kind]
        if key in fields:
            return fields[key]
        for name, spec in fields.items():
            if name.endswith(".") and key.startswith(name) and len(key) > len(name):
                return spec
        return None


_STRING = frozenset({Op.EQ, Op.NE, Op.LIKE, Op.ILIKE})
_STRING_LIST = _STRING | LIST_OPS
_STRING_NULL = _STRING | NULL_OPS


def _attributes(*groups: tuple[tuple[str, ...], Field]) -> dict[str, tuple[str, Field]]:
    """Attribute table from (spellings, field) groups; the first spelling is canonical."""
    return {name: (names[0], spec) for names, spec in groups for name in names}


def _numeric(name: str, numbers: Numbers) -> Field:
    return Field(f"numeric attribute '{name}'", number_ops=NUMERIC_OPS, numbers=numbers)


def _string(name: str, ops: frozenset[Op] = _STRING) -> Field:
    return Field(f"attribute '{name}'", string_ops=ops)


_METRIC = Field("metric", number_ops=NUMERIC_OPS)

RUNS = Grammar(
    entity="runs",
    prefixes={
        **dict.fromkeys(("metric", "metrics"), Kind.METRIC),
        **dict.fromkeys(("parameter", "parameters", "param", "params"), Kind.PARAM),
        **dict.fromkeys(("tag", "tags"), Kind.TAG),
        **dict.fromkeys(("attribute", "attributes", "attr", "run"), Kind.ATTRIBUTE),
        **dict.fromkeys(("dataset", "datasets"), Kind.DATASET),
    },
    attributes=_attributes(
        (("run_id",), _string("run_id", _STRING_LIST)),
        (("run_name", "run name", "Run name", "Run Name"), _string("run_name")),
        (("status",), _string("status")),
        (("user_id",), _string("user_id")),
        (("artifact_uri",), _string("artifact_uri")),
        (("start_time", "created", "Created"), _numeric("start_time", Numbers.NUMBER)),
        (("end_time",), _numeric("end_time", Numbers.NUMBER)),
    ),
    kinds={
        Kind.METRIC: _METRIC,
        Kind.PARAM: Field("param", string_ops=_STRING_NULL),
        Kind.TAG: Field("tag", string_ops=_STRING_NULL),
    },
    keyed={
        Kind.DATASET: {
            key: Field(f"dataset attribute '{key}'", string_ops=_STRING_LIST)
            for key in ("name", "digest", "context")
        }
    },
    order_kinds=frozenset({Kind.ATTRIBUTE, Kind.METRIC, Kind.PARAM, Kind.TAG}),
    order_attributes={
        **{k: k for k in ("run_id", "run_name", "status", "user_id", "artifact_uri")},
        **{k: k for k in ("start_time", "end_time")},
        "created": "start_time",
        "Created": "start_time",
    },
)

EXPERIMENTS = Grammar(
    entity="experiments",
    # Not "attributes.": MLflow rejects it for experiments (spec §6.2).
    prefixes={"attribute": Kind.ATTRIBUTE, "tag": Kind.TAG, "tags": Kind.TAG},
    attributes=_attributes(
        (("name",), _string("name")),
        (
            ("experiment_id",),
            Field(
                "attribute 'experiment_id'",
                string_ops=frozenset({Op.EQ, Op.NE}) | LIST_OPS,
                integer_strings=True,
            ),
        ),
        (("creation_time",), _numeric("creation_time", Numbers.INTEGER)),
        (("last_update_time",), _numeric("last_update_time", Numbers.INTEGER)),
    ),
    kinds={Kind.TAG: Field("tag", string_ops=_STRING_NULL)},
    order_attributes={k: k for k in ("name", "experiment_id", "creation_time", "last_update_time")},
)

LOGGED_MODELS = Grammar(
    entity="logged models",
    prefixes={
        "attributes": Kind.ATTRIBUTE,
        "metrics": Kind.METRIC,
        "params": Kind.PARAM,
        "tags": Kind.TAG,
    },
    attributes=_attributes(
        (("name",), _string("name", _STRING_LIST)),
        (("model_id",), _string("model_id", _STRING_LIST)),
        (("model_type",), _string("model_type", _STRING_LIST)),
        (("source_run_id",), _string("source_run_id", _STRING_LIST)),
        # Stored as an enum integer by MLflow: 2, '2' and 'READY' all name a status here.
        (
            ("status",),
            Field(
                "attribute 'status'",
                string_ops=frozenset({Op.EQ, Op.NE}) | LIST_OPS,
                number_ops=frozenset({Op.EQ, Op.NE}),
                numbers=Numbers.INTEGER,
            ),
        ),
        (
            ("creation_timestamp", "creation_time"),
            _numeric("creation_timestamp", Numbers.NUMBER),
        ),
        (
            ("last_updated_timestamp", "last_updated_time"),
            _numeric("last_updated_timestamp", Numbers.NUMBER),
        ),
    ),
    kinds={
        Kind.METRIC: _METRIC,
        Kind.PARAM: Field("param", string_ops=_STRING_LIST),
        Kind.TAG: Field("tag", string_ops=_STRING_LIST),
    },
    order_kinds=frozenset({Kind.ATTRIBUTE, Kind.METRIC}),
    order_attributes={
        **{k: k for k in ("name", "model_id", "model_type", "status", "source_run_id")},
        "creation_timestamp": "creation_timestamp",
        "creation_time": "creation_timestamp",
        "last_updated_timestamp": "last_updated_timestamp",
        "last_updated_time": "last_updated_timestamp",
    },
)

_TRACE_STRING = frozenset({Op.EQ, Op.NE, Op.LIKE, Op.ILIKE, Op.RLIKE})
_TRACE_STRING_LIST = _TRACE_STRING | LIST_OPS
_TRACE_STRING_NULL = _TRACE_STRING | NULL_OPS
_ASSESSMENT = Field(
    "assessment",
    string_ops=_TRACE_STRING_NULL,
    number_ops=frozenset({Op.GT, Op.GE, Op.LT, Op.LE}),
    numbers=Numbers.FLOAT,
)

TRACES = Grammar(
    entity="traces",
    prefixes={
        **dict.fromkeys(("attributes", "attribute", "trace"), Kind.ATTRIBUTE),
        **dict.fromkeys(("tags", "tag"), Kind.TAG),
        **dict.fromkeys(("metadata", "request_metadata"), Kind.METADATA),
        "span": Kind.SPAN,
        "feedback": Kind.FEEDBACK,
        "expectation": Kind.EXPECTATION,
        "issue": Kind.ISSUE,
    },
    attributes=_attributes(
        (("status", "state"), _string("status", _TRACE_STRING_LIST)),
        (("request_id",), _string("request_id", _TRACE_STRING_LIST)),
        (("client_request_id",), _string("client_request_id", _TRACE_STRING_LIST)),
        (("run_id",), _string("run_id", _TRACE_STRING_LIST)),
        (("name",), _string("name", _TRACE_STRING_LIST)),
        (("timestamp_ms", "timestamp"), _numeric("timestamp_ms", Numbers.NUMBER)),
        (("execution_time_ms", "execution_time"), _numeric("execution_time_ms", Numbers.NUMBER)),
        (("end_time_ms", "end_time"), _numeric("end_time_ms", Numbers.NUMBER)),
        (("text",), _string("text", frozenset({Op.LIKE, Op.ILIKE}))),
        (("prompt",), _string("prompt", frozenset({Op.EQ}))),
    ),
    kinds={
        Kind.TAG: Field("tag", string_ops=_TRACE_STRING_NULL),
        Kind.METADATA: Field("metadata", string_ops=_TRACE_STRING_NULL),
        Kind.FEEDBACK: _ASSESSMENT,
        Kind.EXPECTATION: _ASSESSMENT,
    },
    keyed={
        Kind.SPAN: {
            **{
                key: Field(f"span attribute '{key}'", string_ops=_TRACE_STRING_LIST)
                for key in ("name", "type", "status", "attributes.")
            },
            "content": Field("span content", string_ops=frozenset({Op.LIKE, Op.ILIKE})),
        },
        Kind.ISSUE: {"id": Field("issue id", string_ops=frozenset({Op.EQ}))},
    },
    order_attributes={
        **{
            k: k
            for k in (
                "experiment_id",
                "timestamp_ms",
                "execution_time_ms",
                "end_time_ms",
                "status",
                "request_id",
                "name",
                "run_id",
            )
        },
        "timestamp": "timestamp_ms",
        "execution_time": "execution_time_ms",
        "end_time": "end_time_ms",
    },
)

# Model registry (spec §6; MLflow's SearchModelUtils / SearchModelVersionUtils): singular
# ``attribute.`` and ``tag.``/``tags.`` prefixes, tags compared as strings without IS NULL.
_REGISTRY_PREFIXES = {"attribute": Kind.ATTRIBUTE, "tag": Kind.TAG, "tags": Kind.TAG}
_REGISTRY_TAG = Field("tag", string_ops=_STRING)

REGISTERED_MODELS = Grammar(
    entity="registered models",
    prefixes=_REGISTRY_PREFIXES,
    attributes=_attributes((("name",), _string("name", _STRING_LIST))),
    kinds={Kind.TAG: _REGISTRY_TAG},
    # "timestamp" orders by the last update, as in MLflow's SQL store.
    order_attributes={
        "name": "name",
        "timestamp": "last_updated_timestamp",
        "last_updated_timestamp": "last_updated_timestamp",
    },
)

MODEL_VERSIONS = Grammar(
    entity="model versions",
    prefixes=_REGISTRY_PREFIXES,
    attributes=_attributes(
        (("name",), _string("name", _STRING_LIST)),
        (("run_id",), _string("run_id", _STRING_LIST)),
        (("source_path",), _string("source_path")),
        # A version number, written 3 or '3' (MLflow converts either with int()).
        (
            ("version_number",),
            Field(
                "numeric attribute 'version_number'",
                string_ops=NUMERIC_OPS,
                number_ops=NUMERIC_OPS,
                numbers=Numbers.INTEGER,
            ),
        ),
    ),
    kinds={Kind.TAG: _REGISTRY_TAG},
    order_attributes={
        k: k for k in ("name", "version_number", "creation_timestamp", "last_updated_timestamp")
    },
)
