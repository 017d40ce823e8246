"""``from_huggingface`` against MLflow 3.17.2: same digest, schema, profile and source."""

from __future__ import annotations

import pytest

import tracklet

datasets = pytest.importorskip("datasets")


def _ds() -> object:
    return datasets.Dataset.from_dict(
        {"text": ["a", "bb", "ccc", "dd"], "label": [0, 1, 1, 0], "score": [0.5, 1.5, 2.5, 3.5]}
    )


def test_from_huggingface_records_what_mlflow_records(sqlite_uri: str) -> None:
    import mlflow.data

    ds = _ds()
    ours = tracklet.data.from_huggingface(ds, path="org/data", targets="label", name="train")
    theirs = mlflow.data.from_huggingface(ds, path="org/data", targets="label", name="train")
    assert ours.to_dict() == theirs.to_dict()
    assert ours.profile == {
        "num_rows": 4,
        "dataset_size": ds.dataset_size,
        "size_in_bytes": ds.size_in_bytes,
    }
    code = tracklet.data.from_huggingface(ds)
    assert code.digest == mlflow.data.from_huggingface(ds).digest
    assert code.source._get_source_type() == "code"
    # Logged, the dataset's source reads back as a Hugging Face source.
    tracklet.set_tracking_uri(sqlite_uri)
    with tracklet.start_run() as run:
        tracklet.log_input(ours, context="training")
    logged = tracklet.get_run(run.info.run_id).inputs.dataset_inputs[0]
    source = tracklet.data.get_source(logged)
    assert source.to_dict() == theirs.source.to_dict()


def test_from_huggingface_refuses_what_mlflow_refuses() -> None:
    with pytest.raises(tracklet.exceptions.MlflowException, match=r"datasets\.Dataset"):
        tracklet.data.from_huggingface(datasets.DatasetDict({"train": _ds()}))
    with pytest.raises(tracklet.exceptions.MlflowException, match="targets column 'nope'"):
        tracklet.data.from_huggingface(_ds(), targets="nope")
