"""The one search language: filter strings and order_by lists for runs, experiments, logged
models, traces, registered models and model versions, parsed into a small AST (``ast``) that
the SQL store compiles and ``evaluate`` runs in Python."""

from tracklet.search.ast import Comparison, Filter, Identifier, Kind, Op, OrderBy
from tracklet.search.grammar import (
    EXPERIMENTS,
    LOGGED_MODELS,
    MODEL_VERSIONS,
    REGISTERED_MODELS,
    RUNS,
    TRACES,
    Grammar,
)
from tracklet.search.parser import parse_filter, parse_order_by

__all__ = [
    "EXPERIMENTS",
    "LOGGED_MODELS",
    "MODEL_VERSIONS",
    "REGISTERED_MODELS",
    "RUNS",
    "TRACES",
    "Comparison",
    "Filter",
    "Grammar",
    "Identifier",
    "Kind",
    "Op",
    "OrderBy",
    "parse_filter",
    "parse_order_by",
]
