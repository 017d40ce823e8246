import tracklet as mlflow


def test_log_and_read_back(tracking_uri: str) -> None:
    with mlflow.start_run() as run:
        mlflow.log_param("lr", 0.1)
        mlflow.log_metric("loss", 0.5, step=1)
    got = mlflow.get_run(run.info.run_id)
    assert got.data.params == {"lr": "0.1"}
    assert got.data.metrics == {"loss": 0.5}
    assert got.info.status == "FINISHED"
