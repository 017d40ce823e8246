"""The oracle for autologging: the same training code run under MLflow 3.17.2's autolog (in
its own SQLite store) and under tracklet's, each summarized the same way for comparison."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import tracklet

# Tags whose values differ by nature between two runs (ids, names, paths).
VOLATILE_TAGS = {"mlflow.runName", "mlflow.source.name", "mlflow.user", "mlflow.parentRunId"}


@dataclass
class Summary:
    """A run as autologging left it: what the comparison looks at."""

    run: Any
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    artifacts: list[str]
    models: dict[str, list[str]] = field(default_factory=dict)  # name -> files
    model_dirs: dict[str, str] = field(default_factory=dict)  # name -> local copy
    inputs: list[tuple[str, str, str]] = field(default_factory=list)  # name, digest, context
    children: list[Any] = field(default_factory=list)


def _files(root: str) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs
    )


def _walk(list_fn: Callable[[str | None], list[Any]], path: str | None = None) -> list[str]:
    out: list[str] = []
    for info in list_fn(path):
        if info.is_dir:
            out.extend(_walk(list_fn, info.path))
        else:
            out.append(info.path)
    return sorted(out)


def summarize(lib: Any, run: Any, tmp: Path) -> Summary:
    """Summarize ``run`` through ``lib`` (``mlflow`` or ``tracklet``): both have the API."""
    client = lib.MlflowClient()
    run_id = run.info.run_id
    run = client.get_run(run_id)
    models = lib.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run_id}'",
        output_format="list",
    )
    summary = Summary(
        run=run,
        params=dict(run.data.params),
        metrics=dict(run.data.metrics),
        tags=dict(run.data.tags),
        artifacts=_walk(lambda p: client.list_artifacts(run_id, p)),
    )
    for model in models:
        local = tmp / f"{lib.__name__}-{model.model_id}"
        path = lib.artifacts.download_artifacts(
            artifact_uri=model.artifact_location, dst_path=str(local)
        )
        summary.models[model.name] = _files(path)
        summary.model_dirs[model.name] = path
    for dataset_input in run.inputs.dataset_inputs:
        context = {t.key: t.value for t in dataset_input.tags}.get("mlflow.data.context", "")
        ds = dataset_input.dataset
        summary.inputs.append((ds.name, ds.digest, context))
    summary.inputs.sort()
    summary.children = lib.search_runs(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{run_id}'",
        output_format="list",
    )
    return summary


@dataclass
class Oracle:
    tmp: Path
    mlflow_uri: str

    def mlflow(self, flavor: str, train: Callable[[], Any], **options: Any) -> Summary:
        """``train()`` under ``mlflow.<flavor>.autolog(**options)``; the run it made."""
        import mlflow

        return self._run(mlflow, self.mlflow_uri, flavor, train, options)

    def tracklet(self, flavor: str, train: Callable[[], Any], **options: Any) -> Summary:
        """``train()`` under ``tracklet.<flavor>.autolog(**options)``; the run it made."""
        uri = f"sqlite:///{self.tmp / 'tracklet.db'}"
        return self._run(tracklet, uri, flavor, train, options)

    def _run(
        self, lib: Any, uri: str, flavor: str, train: Callable[[], Any], options: dict[str, Any]
    ) -> Summary:
        lib.set_tracking_uri(uri)
        autolog = _flavor_module(lib, flavor).autolog
        autolog(**options)
        try:
            train()
        finally:
            autolog(disable=True)
        run = lib.last_active_run()
        assert run is not None
        return summarize(lib, run, self.tmp)


def _flavor_module(lib: Any, flavor: str) -> Any:
    import importlib

    return importlib.import_module(f"{lib.__name__}.{flavor}")


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One MLflow database per test process: creating its schema takes seconds."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def oracle(tmp_path: Path, mlflow_uri: str, monkeypatch: pytest.MonkeyPatch) -> Oracle:
    import mlflow.models

    # MLflow infers a model's requirements in a subprocess (seconds per model); the oracle
    # compares files, not requirement lists, so it takes the flavor's defaults at once.
    monkeypatch.setattr(
        mlflow.models,
        "infer_pip_requirements",
        lambda path, flavor, fallback=None, **kwargs: fallback,
    )
    os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
    return Oracle(tmp_path, mlflow_uri)


def assert_same_run(ours: Summary, theirs: Summary, rel: float = 1e-6) -> None:
    """Same params (keys and values), metric keys (values within ``rel``), tag keys, run
    artifacts, logged models and their files, and run inputs."""
    assert ours.params == theirs.params
    assert sorted(ours.metrics) == sorted(theirs.metrics)
    for key, value in theirs.metrics.items():
        assert ours.metrics[key] == pytest.approx(value, rel=rel, abs=1e-9), key
    assert sorted(ours.tags) == sorted(theirs.tags)
    for key, value in theirs.tags.items():
        if key not in VOLATILE_TAGS:
            assert ours.tags[key] == value, key
    assert ours.artifacts == theirs.artifacts
    assert ours.models == theirs.models
    assert ours.inputs == theirs.inputs
    assert ours.run.info.status == theirs.run.info.status
