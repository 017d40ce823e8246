"""Issue 18 item 7: random sequences of tracking calls, run with MLflow 3.17.2's own
``MlflowClient`` against ``mlflow server`` and against ``tracklet server``, must observe the
same: entities, search orders, pages and error codes.

A program is a list of calls on logical experiments and runs (an index, resolved when the call
runs, so every program is valid): experiments, runs, params, metrics (NaN, ±inf, negative
steps), tags, terminations, deletes and restores, run and experiment searches with random
filters, orders and page sizes, metric histories. Both servers run it; each call's answer is
normalized and compared call by call.

Normalized away, as they legitimately differ: ids (a run or experiment is its logical index),
artifact URIs, ±inf metric values (MLflow's SQL store answers ±1.7976931348623157e308),
and the experiments' creation and last-update times (wall clock: the two servers
create them at different moments, and tracklet often within one millisecond, where MLflow's
own tie-breaker applies). So experiment searches order explicitly by name or id, and a default
order is compared as a set. Run start and end times are the program's, and never tie (MLflow
breaks start_time ties on the random run id; tracklet by creation: see item 5's tests).
MLflow answers tracklet deliberately does not copy are listed, with reasons, in DELIBERATE.

CI runs a few derandomized examples; a few hundred random ones (longer programs) found nothing
else when this was written: raise ``max_examples`` and drop ``derandomize`` to hunt again.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.compat.conftest import QUIET_MLFLOW, LiveServer

pytestmark = pytest.mark.xdist_group("mlflow_server")

BASE_TIME = 1_700_000_000_000
PARAM_KEYS = ["lr", "opt"]
PARAM_VALUES = ["0.1", "0.01", "adam", "a b", ""]
METRIC_KEYS = ["acc", "loss"]
METRIC_VALUES = [0.0, 1.5, -2.0, 1e-9, math.nan, math.inf, -math.inf]
TAG_KEYS = ["team", "mlflow.note.content"]
TAG_VALUES = ["a", "b", "A", "x%"]
RUN_NAMES = ["alpha", "beta", "Alpha", "a_1"]
STATUSES = ["FINISHED", "FAILED", "KILLED"]
VIEW_TYPES = [1, 2, 3]  # ACTIVE_ONLY, DELETED_ONLY, ALL
BAD_KEYS = ["", "a b!", "../x", "k" * 251]
BAD_FILTERS = [
    "metrics.acc > 'x'",
    "params.lr > 1",
    "attributes.nope = 'x'",
    "metrics.acc >",
    "tags.team = 'a' or tags.team = 'b'",
]


# ---------------------------------------------------------------------- programs


def _number(value: float) -> str:
    return repr(value)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "\\'") + "'"


@st.composite
def run_filters(draw: st.DrawFn) -> str:
    kinds = ["metric", "param", "tag", "status", "name", "time", "run_id", "null", "bad", "none"]
    kind = draw(st.sampled_from(kinds))
    if kind == "metric":
        op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
        value = draw(st.sampled_from([0.0, 1.5, -2.0, 7.0]))
        return f"metrics.{draw(st.sampled_from(METRIC_KEYS))} {op} {_number(value)}"
    if kind in ("param", "tag"):
        keys, values = (PARAM_KEYS, PARAM_VALUES) if kind == "param" else (TAG_KEYS, TAG_VALUES)
        key = draw(st.sampled_from(keys))
        op = draw(st.sampled_from(["=", "!=", "LIKE", "ILIKE"]))
        value = draw(st.sampled_from([*values, "a%", "%"]))
        return f"{kind}s.`{key}` {op} {_quote(value)}"
    if kind == "status":
        op = draw(st.sampled_from(["=", "!="]))
        return f"attributes.status {op} {_quote(draw(st.sampled_from(['RUNNING', *STATUSES])))}"
    if kind == "name":
        op = draw(st.sampled_from(["=", "!=", "LIKE", "ILIKE"]))
        return f"attributes.run_name {op} {_quote(draw(st.sampled_from([*RUN_NAMES, 'a%'])))}"
    if kind == "time":
        op = draw(st.sampled_from(["<", ">=", "="]))
        key = draw(st.sampled_from(["start_time", "end_time", "created"]))
        return f"attributes.{key} {op} {BASE_TIME + draw(st.integers(0, 5)) * 100}"
    if kind == "run_id":  # {run:N} is the logical run N's id on each server
        chosen = draw(st.lists(st.integers(0, 7), min_size=1, max_size=3))
        op = draw(st.sampled_from(["IN", "NOT IN"]))
        listed = ", ".join("'{run:" + str(i) + "}'" for i in chosen)
        return f"attributes.run_id {op} ({listed})"
    if kind == "null":
        key = draw(st.sampled_from([*(f"params.{k}" for k in PARAM_KEYS), "tags.team"]))
        return f"{key} IS {draw(st.sampled_from(['NULL', 'NOT NULL']))}"
    if kind == "bad":
        return draw(st.sampled_from(BAD_FILTERS))
    return ""


RUN_ORDER_FIELDS = [
    *(f"metrics.{k}" for k in METRIC_KEYS),
    *(f"params.{k}" for k in PARAM_KEYS),
    "tags.team",
    "attributes.start_time",
    "attributes.end_time",
    "attributes.run_name",
    "attributes.status",
]


@st.composite
def orders(draw: st.DrawFn, fields: list[str], max_size: int = 2) -> list[str]:
    chosen = draw(st.lists(st.sampled_from(fields), max_size=max_size, unique=True))
    return [f"{f}{draw(st.sampled_from(['', ' ASC', ' DESC']))}" for f in chosen]


def calls() -> st.SearchStrategy[tuple[Any, ...]]:
    index = st.integers(0, 7)
    return st.one_of(
        st.tuples(st.just("create_experiment")),
        st.tuples(st.just("create_run"), index, st.integers(0, 5), st.sampled_from(RUN_NAMES)),
        st.tuples(
            st.just("log_param"), index, st.sampled_from(PARAM_KEYS), st.sampled_from(PARAM_VALUES)
        ),
        st.tuples(
            st.just("log_metric"),
            index,
            st.sampled_from(METRIC_KEYS),
            st.sampled_from(METRIC_VALUES),
            st.integers(-3, 3),
            st.integers(0, 3),
        ),
        st.tuples(
            st.just("set_tag"), index, st.sampled_from(TAG_KEYS), st.sampled_from(TAG_VALUES)
        ),
        st.tuples(st.just("delete_tag"), index, st.sampled_from(TAG_KEYS)),
        st.tuples(st.just("terminate"), index, st.sampled_from(STATUSES), st.integers(0, 3)),
        st.tuples(st.sampled_from(["delete_run", "restore_run", "get_run"]), index),
        st.tuples(st.sampled_from(["delete_experiment", "restore_experiment"]), index),
        st.tuples(
            st.just("search_runs"),
            st.lists(run_filters(), max_size=2),
            orders(RUN_ORDER_FIELDS),
            st.sampled_from(VIEW_TYPES),
            st.integers(1, 4),
        ),
        st.tuples(
            st.just("search_experiments"),
            st.sampled_from(["", "name LIKE '%e1'", "name != 'x'", "tags.k = 'v'"]),
            orders(["name", "experiment_id"], max_size=1),
            st.sampled_from(VIEW_TYPES),
            st.integers(1, 3),
        ),
        st.tuples(st.just("history"), index, st.sampled_from([*METRIC_KEYS, "none"])),
        st.tuples(
            st.just("log_batch"),
            index,
            st.lists(
                st.tuples(
                    st.sampled_from(METRIC_KEYS),
                    st.sampled_from(METRIC_VALUES),
                    st.integers(-2, 2),
                    st.integers(0, 3),
                ),
                max_size=3,
            ),
            st.lists(
                st.tuples(st.sampled_from(PARAM_KEYS), st.sampled_from(PARAM_VALUES)), max_size=2
            ),
            st.lists(st.tuples(st.sampled_from(TAG_KEYS), st.sampled_from(TAG_VALUES)), max_size=2),
        ),
        st.tuples(
            st.sampled_from(["log_param", "set_tag"]),
            index,
            st.sampled_from(BAD_KEYS),
            st.sampled_from(["v", "x" * 8001]),
        ),
        st.tuples(
            st.just("update_run"),
            index,
            st.sampled_from([None, *STATUSES, "RUNNING"]),
            st.sampled_from([None, *RUN_NAMES]),
        ),
        st.tuples(
            st.just("set_experiment_tag"),
            index,
            st.sampled_from(["k", "j"]),
            st.sampled_from(["v", "w"]),
        ),
        st.tuples(st.just("delete_experiment_tag"), index, st.sampled_from(["k", "j"])),
        st.tuples(st.just("rename_experiment"), index, st.integers(0, 4)),
    )


# ---------------------------------------------------------------------- running a program


def _float(value: float) -> str:
    # MLflow's SQL store keeps ±inf as ±1.7976931348623157e308 (its databases' limit, spec
    # §7.3); tracklet keeps the infinity itself. The same metric, either way.
    if abs(value) == sys.float_info.max:
        value = math.copysign(math.inf, value)
    return "nan" if math.isnan(value) else repr(value)


@dataclass
class Side:
    """One server and the ids its entities got, in logical order."""

    client: Any
    prefix: str
    experiments: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    run_times: int = 0

    def run_index(self, run_id: str) -> int:
        return self.runs.index(run_id)

    def experiment_index(self, experiment_id: str) -> int:
        return self.experiments.index(experiment_id)

    def normalized_run(self, run: Any) -> tuple[Any, ...]:
        info, data = run.info, run.data
        return (
            self.run_index(info.run_id),
            self.experiment_index(info.experiment_id),
            info.run_name,
            info.status,
            info.start_time,
            info.end_time,
            info.lifecycle_stage,
            sorted(data.params.items()),
            sorted((k, _float(v)) for k, v in data.metrics.items()),
            sorted(data.tags.items()),
        )


def _pick(items: list[str], index: int) -> str:
    # A program may name an entity before any exists: a made-up id (both answer not found).
    return items[index % len(items)] if items else "0123456789abcdef0123456789abcdef"


def _pages(search: Callable[[int, str | None], Any], page_size: int) -> list[Any]:
    found: list[Any] = []
    token = None
    for _ in range(100):
        page = search(page_size, token)
        assert len(page) <= page_size
        found.append(list(page))
        token = page.token
        if not token:
            break
    return found


def _execute(side: Side, call: tuple[Any, ...]) -> Any:
    from mlflow.entities import Metric, Param, RunTag

    client, name = side.client, call[0]
    if name == "create_experiment":
        experiment_id = client.create_experiment(f"{side.prefix}-e{len(side.experiments)}")
        side.experiments.append(experiment_id)
        return len(side.experiments) - 1
    if name == "create_run":
        _, experiment, slot, run_name = call
        # Distinct start times (see the module's docstring), in a random order.
        start = BASE_TIME + slot * 100 + len(side.runs)
        run = client.create_run(_pick(side.experiments, experiment), start, run_name=run_name)
        side.runs.append(run.info.run_id)
        return side.normalized_run(run)
    if name in ("delete_experiment", "restore_experiment"):
        getattr(client, name)(_pick(side.experiments, call[1]))
        return None
    if name == "set_experiment_tag":
        client.set_experiment_tag(_pick(side.experiments, call[1]), call[2], call[3])
        return None
    if name == "delete_experiment_tag":
        client.delete_experiment_tag(_pick(side.experiments, call[1]), call[2])
        return None
    if name == "rename_experiment":
        client.rename_experiment(_pick(side.experiments, call[1]), f"{side.prefix}-e{call[2]}")
        return None
    if name == "search_experiments":
        _, filter_string, order_by, view_type, page_size = call
        prefix = f"name LIKE '{side.prefix}-%'"
        full = f"{prefix} AND {filter_string}" if filter_string else prefix
        pages = _pages(
            lambda n, token: client.search_experiments(view_type, n, full, order_by or None, token),
            page_size,
        )
        found = [
            [(side.experiment_index(e.experiment_id), e.name, e.lifecycle_stage) for e in page]
            for page in pages
        ]
        # Default order: creation time, which is the wall clock's (see the docstring).
        return found if order_by else sorted(e for page in found for e in page)
    if name == "search_runs":
        _, filters, order_by, view_type, page_size = call
        filter_string = " and ".join(f for f in filters if f)
        for i in range(8):
            filter_string = filter_string.replace(f"{{run:{i}}}", _pick(side.runs, i))
        pages = _pages(
            lambda n, token: client.search_runs(
                side.experiments, filter_string, view_type, n, order_by, token
            ),
            page_size,
        )
        return [[side.normalized_run(run) for run in page] for page in pages]
    run_id = _pick(side.runs, call[1])
    if name == "log_param":
        client.log_param(run_id, call[2], call[3])
    elif name == "log_metric":
        _, _, key, value, step, at = call
        client.log_metric(run_id, key, value, BASE_TIME + at, step)
    elif name == "set_tag":
        client.set_tag(run_id, call[2], call[3])
    elif name == "delete_tag":
        client.delete_tag(run_id, call[2])
    elif name == "terminate":
        client.set_terminated(run_id, call[2], BASE_TIME + 10_000 + call[3])
    elif name in ("delete_run", "restore_run"):
        getattr(client, name)(run_id)
    elif name == "log_batch":
        _, _, metrics, params, tags = call
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, BASE_TIME + at, step) for k, v, step, at in metrics],
            params=[Param(k, v) for k, v in params],
            tags=[RunTag(k, v) for k, v in tags],
        )
    elif name == "update_run":
        client.update_run(run_id, call[2], call[3])
    elif name == "get_run":
        return side.normalized_run(client.get_run(run_id))
    elif name == "history":
        return [
            (_float(m.value), m.step, m.timestamp)
            for m in client.get_metric_history(run_id, call[2])
        ]
    return None


# MLflow's answers tracklet deliberately does not copy: (call, MLflow's error code) -> tracklet's.
DELIBERATE = {
    # Renaming onto a taken name: MLflow's SQL store lets the IntegrityError through its
    # catch-all as BAD_REQUEST, with the database's own message; tracklet answers as MLflow
    # does for create_experiment with a taken name (both are HTTP 400).
    ("rename_experiment", "BAD_REQUEST"): "RESOURCE_ALREADY_EXISTS",
    # Renaming a deleted experiment: MLflow answers INVALID_STATE, an HTTP 500 that clients
    # retry for minutes (seen here as INTERNAL_ERROR, retries being off); tracklet a 400, as
    # for any other change to a deleted experiment (tests/store/sql/test_experiments.py).
    ("rename_experiment", "INTERNAL_ERROR"): "INVALID_PARAMETER_VALUE",
}


def _observe(side: Side, call: tuple[Any, ...], oracle: bool) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return "ok", _execute(side, call)
    except MlflowException as error:
        code = error.error_code
        return "error", DELIBERATE.get((call[0], code), code) if oracle else code


# ---------------------------------------------------------------------- the test


@pytest.fixture
def clients(tracklet_server: LiveServer, mlflow_server: LiveServer) -> tuple[Any, Any]:
    os.environ.update(QUIET_MLFLOW)
    from mlflow import MlflowClient

    return MlflowClient(mlflow_server.url), MlflowClient(tracklet_server.url)


counter = iter(range(1_000_000))


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    program=st.lists(calls(), min_size=4, max_size=24).map(
        lambda rest: [("create_experiment",), ("create_run", 0, 1, "alpha"), *rest]
    )
)
def test_same_calls_same_answers(
    clients: tuple[Any, Any], unique: str, program: list[tuple[Any, ...]]
) -> None:
    prefix = f"{unique}-{next(counter)}"
    theirs, ours = Side(clients[0], prefix), Side(clients[1], prefix)
    for step, call in enumerate(program):
        expected, found = _observe(theirs, call, True), _observe(ours, call, False)
        assert found == expected, f"call {step} of {program[: step + 1]}"
