"""search_logged_models: the seed's searches by tags, model_type and dataset-scoped metrics."""

from __future__ import annotations

import pytest

import tracklet as mlflow
from tracklet import MlflowClient
from tracklet.exceptions import MlflowException


def _dataset(name: str, digest: str) -> object:
    class _Dataset:
        def _to_mlflow_entity(self) -> object:
            return mlflow.entities.Dataset(name, digest, "code", "{}")

    return _Dataset()


@pytest.fixture
def models(tracking_uri: str) -> dict[str, str]:
    mlflow.set_experiment("models")
    test_set, train_set = _dataset("test_set", "d1"), _dataset("train_set", "d2")
    created = {}
    with mlflow.start_run():
        for name, model_type, family, acc_test, acc_train in [
            ("rf", "classifier", "trees", 0.91, 0.99),
            ("lr", "classifier", "linear", 0.85, 0.86),
            ("gbm", "classifier", "trees", 0.95, 0.97),
            ("agent", "agent", "llm", None, None),
        ]:
            model = mlflow.initialize_logged_model(
                name=name, model_type=model_type, tags={"family": family}, params={"n": 3}
            )
            if acc_test is not None:
                mlflow.log_metric("accuracy", acc_test, model_id=model.model_id, dataset=test_set)
                mlflow.log_metric("accuracy", acc_train, model_id=model.model_id, dataset=train_set)
            mlflow.finalize_logged_model(model.model_id, "READY" if name != "lr" else "FAILED")
            created[name] = model.model_id
    return created


def _names(result: list[mlflow.entities.LoggedModel]) -> list[str]:
    return [m.name for m in result]


def test_filter_by_tags_and_model_type(models: dict[str, str]) -> None:
    found = mlflow.search_logged_models(
        filter_string="tags.family = 'trees' AND model_type = 'classifier'",
        order_by=[{"field_name": "name", "ascending": True}],
        output_format="list",
    )
    assert _names(found) == ["gbm", "rf"]
    assert _names(
        mlflow.search_logged_models(filter_string="model_type = 'agent'", output_format="list")
    ) == ["agent"]


def test_metrics_scoped_to_a_dataset(models: dict[str, str]) -> None:
    on_test = mlflow.search_logged_models(
        filter_string="metrics.accuracy > 0.9",
        datasets=[{"dataset_name": "test_set"}],
        order_by=[
            {"field_name": "metrics.accuracy", "ascending": False, "dataset_name": "test_set"}
        ],
        output_format="list",
    )
    assert _names(on_test) == ["gbm", "rf"]
    on_train = mlflow.search_logged_models(
        filter_string="metrics.accuracy > 0.9",
        datasets=[{"dataset_name": "train_set", "dataset_digest": "d2"}],
        output_format="list",
    )
    assert sorted(_names(on_train)) == ["gbm", "rf"]
    any_metric_on_test = mlflow.search_logged_models(
        datasets=[{"dataset_name": "test_set"}], output_format="list"
    )
    assert sorted(_names(any_metric_on_test)) == ["gbm", "lr", "rf"]
    assert (
        mlflow.search_logged_models(
            datasets=[{"dataset_name": "test_set", "dataset_digest": "other"}], output_format="list"
        )
        == []
    )


def test_status_params_and_lists(models: dict[str, str]) -> None:
    for status in ("'READY'", "2", "'2'", "'LOGGED_MODEL_READY'"):
        found = mlflow.search_logged_models(
            filter_string=f"status = {status}", output_format="list"
        )
        assert sorted(_names(found)) == ["agent", "gbm", "rf"]
    found = mlflow.search_logged_models(
        filter_string="name IN ('rf', 'lr') AND params.n = '3'", output_format="list"
    )
    assert sorted(_names(found)) == ["lr", "rf"]
    assert _names(
        mlflow.search_logged_models(filter_string="name LIKE 'g%'", output_format="list")
    ) == ["gbm"]


def test_pages_and_errors(models: dict[str, str]) -> None:
    client = MlflowClient()
    experiment_id = mlflow.get_experiment_by_name("models").experiment_id  # type: ignore[union-attr]
    first = client.search_logged_models([experiment_id], max_results=3)
    assert len(first) == 3
    assert first.token
    rest = client.search_logged_models([experiment_id], max_results=3, page_token=first.token)
    assert len(rest) == 1
    assert rest.token is None
    assert {m.name for m in [*first, *rest]} == {"rf", "lr", "gbm", "agent"}
    with pytest.raises(MlflowException, match="different search"):
        client.search_logged_models(
            [experiment_id], filter_string="name = 'rf'", max_results=3, page_token=first.token
        )
    with pytest.raises(MlflowException) as error:
        client.search_logged_models([experiment_id], filter_string="tags.family IS NULL")
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException, match="dataset_digest"):
        client.search_logged_models(
            [experiment_id], order_by=[{"field_name": "metrics.accuracy", "dataset_digest": "x"}]
        )


def test_set_active_model_by_name(models: dict[str, str]) -> None:
    active = mlflow.set_active_model(name="rf")
    assert active.model_id == models["rf"]
    created = mlflow.set_active_model(name="brand-new")
    assert created.tags["mlflow.model.isExternal"] == "true"
    assert mlflow.get_active_model_id() == created.model_id


def test_models_without_the_metric_sort_last(models: dict[str, str]) -> None:
    for ascending in (True, False):
        found = mlflow.search_logged_models(
            order_by=[
                {
                    "field_name": "metrics.accuracy",
                    "ascending": ascending,
                    "dataset_name": "test_set",
                }
            ],
            output_format="list",
        )
        names = _names(found)
        assert names[-1] == "agent"
        expected = ["lr", "rf", "gbm"] if ascending else ["gbm", "rf", "lr"]
        assert names[:3] == expected
