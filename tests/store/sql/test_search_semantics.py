"""search_runs in SQL, case by case: NaN and missing values, string matching, order,
tie-breakers, long values, errors, and pages that stay stable under concurrent inserts."""

from __future__ import annotations

import base64
import json
import math
import threading

import pytest

from tracklet.entities import Metric, Param, RunTag, ViewType
from tracklet.exceptions import MlflowException
from tracklet.store.sql.store import SqlStore


def make_run(
    store: SqlStore,
    experiment_id: str,
    start_time: int = 1,
    metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    name: str | None = None,
) -> str:
    run = store.create_run(experiment_id, "u", start_time, [], name)
    store.log_batch(
        run.info.run_id,
        metrics=[Metric(k, v, 1, 0) for k, v in (metrics or {}).items()],
        params=[Param(k, v) for k, v in (params or {}).items()],
        tags=[RunTag(k, v) for k, v in (tags or {}).items()],
    )
    return run.info.run_id


def ids(
    store: SqlStore,
    experiment_id: str,
    filter_string: str = "",
    order_by: list[str] | None = None,
    view: int = ViewType.ACTIVE_ONLY,
) -> list[str]:
    return [
        r.info.run_id
        for r in store.search_runs([experiment_id], filter_string, view, 1000, order_by)
    ]


def invalid(call: object, *args: object) -> str:
    with pytest.raises(MlflowException) as info:
        call(*args)  # type: ignore[operator]
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert info.value.get_http_status_code() == 400
    return info.value.message


def test_nan_and_missing_metrics(store: SqlStore) -> None:
    e = store.create_experiment("e")
    real = make_run(store, e, 3, metrics={"a": 1.0})
    nan = make_run(store, e, 2, metrics={"a": math.nan})
    missing = make_run(store, e, 1, metrics={"b": 1.0})
    assert ids(store, e, "metrics.a != 5") == [real, nan]
    assert ids(store, e, "metrics.a != 1") == [nan]
    assert ids(store, e, "metrics.a = 1") == [real]
    assert ids(store, e, "metrics.a < 100 and metrics.a >= -1e300") == [real]
    assert ids(store, e, "metrics.a > -1e308") == [real]
    # Real values, then NaN, then missing, whichever the direction.
    assert ids(store, e, "", ["metrics.a ASC"]) == [real, nan, missing]
    assert ids(store, e, "", ["metrics.a DESC"]) == [real, nan, missing]
    assert ids(store, e, "metrics.a != 7", ["metrics.a DESC"]) == [real, nan]


def test_comparisons_on_missing_keys_are_false(store: SqlStore) -> None:
    e = store.create_experiment("e")
    has = make_run(store, e, 2, params={"p": "x"}, tags={"t": "x"})
    lacks = make_run(store, e, 1)
    for field in ("params.p", "tags.t"):
        assert ids(store, e, f"{field} != 'y'") == [has]
        assert ids(store, e, f"{field} LIKE '%'") == [has]
        assert ids(store, e, f"{field} IS NULL") == [lacks]
        assert ids(store, e, f"{field} IS NOT NULL") == [has]
    assert ids(store, e, "", ["params.p DESC"]) == [has, lacks]
    assert ids(store, e, "", ["params.p ASC"]) == [has, lacks]


def test_like_is_case_sensitive_and_ilike_is_not(store: SqlStore) -> None:
    e = store.create_experiment("e")
    upper = make_run(store, e, 2, params={"opt": "Adam"})
    lower = make_run(store, e, 1, params={"opt": "adam_w"})
    assert ids(store, e, "params.opt LIKE 'A%'") == [upper]
    assert ids(store, e, "params.opt LIKE 'a%'") == [lower]
    assert ids(store, e, "params.opt ILIKE 'a%'") == [upper, lower]
    assert ids(store, e, "params.opt = 'adam'") == []
    # '_' is one character and '%' any run; there is no escape character (a backslash is text).
    assert ids(store, e, "params.opt LIKE 'adam_w'") == [lower]
    assert ids(store, e, "params.opt LIKE 'ada_'") == []
    assert ids(store, e, "params.opt LIKE 'adam\\_w'") == []


def test_default_order_and_tie_breakers(store: SqlStore) -> None:
    e = store.create_experiment("e")
    runs = [make_run(store, e, t, metrics={"m": 1.0}) for t in (1, 2, 2, 3)]
    # Runs started in the same millisecond: newest first (MLflow takes the random run id).
    by_time = [runs[3], runs[2], runs[1], runs[0]]
    assert ids(store, e) == by_time
    # Ties on the ordered metric fall back to start_time DESC, then creation in its direction.
    assert ids(store, e, "", ["metrics.m"]) == by_time
    assert ids(store, e, "", ["start_time"]) == [runs[0], runs[1], runs[2], runs[3]]
    # An order on run_id is total: creation no longer matters.
    assert ids(store, e, "", ["created DESC", "run_id DESC"]) == [
        runs[3],
        *sorted(runs[1:3], reverse=True),
        runs[0],
    ]


def test_run_name_attribute_reads_the_tag(store: SqlStore) -> None:
    e = store.create_experiment("e")
    first = make_run(store, e, 2, name="first-run")
    second = make_run(store, e, 1, name="Second")
    assert ids(store, e, "attributes.run_name = 'first-run'") == [first]
    assert ids(store, e, "`Run Name` ILIKE 's%'") == [second]
    assert ids(store, e, "tags.`mlflow.runName` LIKE '%run'") == [first]
    assert ids(store, e, "", ["attributes.run_name"]) == [second, first]  # code point order


def test_view_types_and_experiments(store: SqlStore) -> None:
    e1, e2 = store.create_experiment("e1"), store.create_experiment("e2")
    a = make_run(store, e1, 3)
    b = make_run(store, e2, 2)
    gone = make_run(store, e1, 1)
    store.delete_run(gone)
    both = store.search_runs([e1, e2], "", ViewType.ACTIVE_ONLY, 10, None, None)
    assert [r.info.run_id for r in both] == [a, b]
    assert ids(store, e1, view=ViewType.DELETED_ONLY) == [gone]
    assert ids(store, e1, view=ViewType.ALL) == [a, gone]
    assert store.search_runs([], "", ViewType.ALL, 10, None, None) == []


def test_long_values_use_the_prefix_index_and_compare_whole(store: SqlStore) -> None:
    e = store.create_experiment("e")
    base = "v" * 150
    long_param = base + "p" * 5850  # 6000 characters: MLflow's limit
    long_tag = base + "t" * 7850  # 8000 characters
    a = make_run(store, e, 3, params={"p": long_param}, tags={"t": long_tag})
    b = make_run(store, e, 2, params={"p": base + "x"}, tags={"t": base})
    c = make_run(store, e, 1, params={"p": "v" * 99}, tags={"t": "v" * 100})
    assert ids(store, e, f"params.p = '{long_param}'") == [a]
    assert ids(store, e, f"params.p = '{base}x'") == [b]
    assert ids(store, e, f"params.p = '{'v' * 99}'") == [c]
    assert ids(store, e, f"params.p = '{'v' * 100}'") == []
    assert ids(store, e, f"tags.t = '{long_tag}'") == [a]
    assert ids(store, e, f"tags.t = '{base}'") == [b]
    assert ids(store, e, f"tags.t = '{'v' * 100}'") == [c]
    assert ids(store, e, f"tags.t != '{base}'") == [a, c]
    assert ids(store, e, "params.p LIKE '%ppp'") == [a]
    assert ids(store, e, "", ["tags.t DESC"]) == [a, b, c]


def test_datasets(store: SqlStore) -> None:
    from tracklet.entities import Dataset, DatasetInput, InputTag

    e = store.create_experiment("e")
    train = make_run(store, e, 2)
    store.log_inputs(
        train,
        [
            DatasetInput(
                Dataset("mnist", "d1", "local", "{}"), [InputTag("mlflow.data.context", "train")]
            )
        ],
    )
    both = make_run(store, e, 1)
    store.log_inputs(
        both,
        [
            DatasetInput(
                Dataset("mnist", "d1", "local", "{}"), [InputTag("mlflow.data.context", "eval")]
            ),
            DatasetInput(Dataset("cifar", "d2", "local", "{}"), []),
        ],
    )
    make_run(store, e, 0)
    assert ids(store, e, "datasets.name = 'mnist'") == [train, both]
    assert ids(store, e, "datasets.name != 'mnist'") == [both]
    assert ids(store, e, "datasets.context = 'train'") == [train]
    assert ids(store, e, "datasets.context IN ('eval', 'x')") == [both]
    assert ids(store, e, "datasets.digest NOT IN ('d1')") == [both]
    assert ids(store, e, "dataset.name LIKE 'c%' AND datasets.context = 'eval'") == [both]


def test_bad_requests_are_400(store: SqlStore) -> None:
    e = store.create_experiment("e")
    for i in range(3):
        make_run(store, e, i)
    search = store.search_runs
    assert "duplicate fields" in invalid(search, [e], "", 1, 10, ["start_time", "created"], None)
    assert "max_results" in invalid(search, [e], "", 1, 50001, None, None)
    assert "max_results" in invalid(search, [e], "", 1, 0, None, None)
    assert "Invalid experiment ID" in invalid(search, ["x"], "", 1, 10, None, None)
    assert "OR" in invalid(search, [e], "metrics.a > 1 OR metrics.b > 1", 1, 10, None, None)
    assert "base64" in invalid(search, [e], "", 1, 10, None, "not a token!")
    assert "base64" in invalid(search, [e], "", 1, 10, None, "eyJvZmZzZXQiOiAxfQ==x")
    token = search([e], "", 1, 1, None, None).token
    assert token is not None
    assert len(search([e], "", 1, 1, None, token)) == 1
    assert "different search" in invalid(search, [e], "params.a = 'x'", 1, 1, None, token)
    assert "different search" in invalid(search, [e], "", 1, 1, ["run_id"], token)
    assert "different search" in invalid(search, [e], "", 3, 1, None, token)
    assert "different search" in invalid(search, ["0", e], "", 1, 1, None, token)
    # A forged sort key of the wrong type never reaches SQL.
    payload = json.loads(base64.urlsafe_b64decode(token))
    payload["k"][0] = [0, "not a time"]
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    assert "malformed sort key" in invalid(search, [e], "", 1, 1, None, forged)
    # MLflow's offset tokens are not ours.
    assert "parsed value=" in invalid(search, [e], "", 1, 1, None, "eyJvZmZzZXQiOiAxfQ==")


def test_full_scan_under_concurrent_inserts_sees_each_run_once(store: SqlStore) -> None:
    e = store.create_experiment("e")
    before = {make_run(store, e, t % 50) for t in range(120)}
    stop = threading.Event()
    inserted: list[str] = []

    def insert() -> None:
        t = 0
        while not stop.is_set():
            inserted.append(make_run(store, e, t % 60))  # new runs land on both sides of the cursor
            t += 7

    writer = threading.Thread(target=insert)
    writer.start()
    try:
        seen: list[str] = []
        token = None
        while True:
            page = store.search_runs([e], "", ViewType.ALL, 7, None, token)
            seen += [r.info.run_id for r in page]
            token = page.token
            if not token:
                break
    finally:
        stop.set()
        writer.join()
    assert len(seen) == len(set(seen))
    assert before <= set(seen)
    assert set(seen) <= before | set(inserted)
