"""The artifact API of MlflowClient and the fluent functions, used as ``import tracklet as
mlflow``, against a SQLite store with local artifacts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import tracklet as mlflow
from tracklet import MlflowClient
from tracklet.entities import FileInfo
from tracklet.exceptions import MlflowException


@pytest.fixture
def uri(sqlite_uri: str) -> str:
    mlflow.set_tracking_uri(sqlite_uri)
    return sqlite_uri


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_fluent_log_artifact_and_artifacts_round_trip(uri: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"alpha")
    (src / "sub" / "b.bin").write_bytes(bytes(range(256)))
    single = tmp_path / "features.csv"
    single.write_text("x,y\n1,2\n")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(single))
        mlflow.log_artifact(str(single), artifact_path="more/deep")
        mlflow.log_artifacts(str(src), artifact_path="tree")
        root_uri = mlflow.get_artifact_uri()
        file_uri = mlflow.get_artifact_uri("more/deep/features.csv")
    assert root_uri == run.info.artifact_uri
    assert root_uri.endswith(f"/0/{run.info.run_id}/artifacts")
    assert file_uri == f"{root_uri}/more/deep/features.csv"
    assert Path(file_uri).read_text() == "x,y\n1,2\n"

    client = MlflowClient()
    assert client.list_artifacts(run.info.run_id) == [
        FileInfo("features.csv", False, 8),
        FileInfo("more", True, None),
        FileInfo("tree", True, None),
    ]
    assert client.list_artifacts(run.info.run_id, "tree") == [
        FileInfo("tree/a.txt", False, 5),
        FileInfo("tree/sub", True, None),
    ]
    assert client.list_artifacts(run.info.run_id, "tree/a.txt") == []
    dst = tmp_path / "dst"
    dst.mkdir()
    local = client.download_artifacts(run.info.run_id, "tree", str(dst))
    assert local == str(dst / "tree")
    assert _tree(Path(local)) == _tree(src)


def test_log_artifact_of_a_directory_keeps_its_name(uri: str, tmp_path: Path) -> None:
    src = tmp_path / "plots"
    src.mkdir()
    (src / "p.txt").write_text("p")
    client = MlflowClient()
    run = client.create_run("0")
    client.log_artifact(run.info.run_id, str(src), "out")
    assert [f.path for f in client.list_artifacts(run.info.run_id, "out/plots")] == [
        "out/plots/p.txt"
    ]


def test_log_text_dict_json_and_yaml(uri: str) -> None:
    with mlflow.start_run() as run:
        mlflow.log_text("héllo\n", "notes/readme.txt")
        mlflow.log_dict({"k": [1, 2], "when": object.__name__}, "cfg.json")
        mlflow.log_dict({"k": {"n": 1}}, "dir/cfg.yaml")
        mlflow.log_dict({"k": 1}, "noext")
    root = run.info.artifact_uri
    assert mlflow.artifacts.load_text(f"{root}/notes/readme.txt") == "héllo\n"
    assert json.loads(Path(root, "cfg.json").read_text()) == {"k": [1, 2], "when": "object"}
    assert Path(root, "dir/cfg.yaml").read_text() == "k:\n  n: 1\n"
    assert mlflow.artifacts.load_dict(f"{root}/cfg.json") == {"k": [1, 2], "when": "object"}
    assert mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/dir/cfg.yaml") == {"k": {"n": 1}}
    assert json.loads(Path(root, "noext").read_text()) == {"k": 1}


def test_log_image_from_numpy_and_as_series(uri: str) -> None:
    import numpy as np
    from PIL import Image

    pixels = np.zeros((10, 20, 3), dtype=np.uint8)
    pixels[:, :10] = 255
    with mlflow.start_run() as run:
        mlflow.log_image(pixels, "img/a.png")
        mlflow.log_image(Image.fromarray(pixels), key="train/sample", step=3)
    root = Path(run.info.artifact_uri)
    with Image.open(root / "img/a.png") as png:
        assert np.array_equal(np.asarray(png), pixels)
    series = sorted(p.name for p in (root / "images").iterdir())
    assert len(series) == 2
    assert series[0].startswith("train~sample+step+3+timestamp+")
    assert series[0].endswith("+compressed.webp") or series[1].endswith("+compressed.webp")
    thumb = next(p for p in (root / "images").iterdir() if p.suffix == ".webp")
    with Image.open(thumb) as webp:
        assert webp.size == (256, 128)
    assert mlflow.get_run(run.info.run_id).data.tags["mlflow.loggedImages"] == "True"


def test_log_image_argument_errors(uri: str) -> None:
    import numpy as np

    with mlflow.start_run():
        with pytest.raises(TypeError, match="exactly one"):
            mlflow.log_image(np.zeros((2, 2)))
        with pytest.raises(ValueError, match="out of acceptable range"):
            mlflow.log_image(np.full((2, 2), 300), "x.png")


def test_log_figure_matplotlib(uri: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    with mlflow.start_run() as run:
        mlflow.log_figure(fig, "figs/line.png")
        mlflow.log_figure(fig, "figs/line.svg", save_kwargs={"transparent": True})
    plt.close(fig)
    root = Path(run.info.artifact_uri)
    assert (root / "figs/line.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (root / "figs/line.svg").read_bytes()


def test_fluent_functions_start_a_run_when_none_is_active(uri: str) -> None:
    mlflow.log_text("x", "x.txt")
    run = mlflow.active_run()
    assert run is not None
    assert Path(run.info.artifact_uri, "x.txt").read_text() == "x"


def test_download_artifacts_module_function(uri: str, tmp_path: Path) -> None:
    with mlflow.start_run() as run:
        mlflow.log_text("1", "d/one.txt")
        mlflow.log_text("2", "d/two.txt")
    run_id = run.info.run_id
    # Local artifacts come back as their own path when no destination is given.
    assert mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="d/one.txt") == (
        os.path.join(run.info.artifact_uri, "d", "one.txt")
    )
    dst = tmp_path / "new" / "dir"  # created on demand
    got = mlflow.artifacts.download_artifacts(f"runs:/{run_id}/d", dst_path=str(dst))
    assert _tree(Path(got)) == {"one.txt": b"1", "two.txt": b"2"}
    whole = mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / "all"))
    assert _tree(Path(whole)) == {"d/one.txt": b"1", "d/two.txt": b"2"}
    assert [f.path for f in mlflow.artifacts.list_artifacts(f"runs:/{run_id}/d")] == [
        "d/one.txt",
        "d/two.txt",
    ]
    assert mlflow.artifacts.list_artifacts(run_id=run_id, artifact_path="d")[0].file_size == 1
    with pytest.raises(MlflowException, match="Exactly one"):
        mlflow.artifacts.download_artifacts()
    with pytest.raises(MlflowException, match="cannot be specified"):
        mlflow.artifacts.download_artifacts("runs:/x/y", artifact_path="z")


def test_logged_model_artifacts_and_models_uri(uri: str, tmp_path: Path) -> None:
    client = MlflowClient()
    model = client.create_logged_model("0", name="m")
    assert model.artifact_location.endswith(f"/0/models/{model.model_id}/artifacts")
    f = tmp_path / "weights.bin"
    f.write_bytes(b"\x00\x01")
    client.log_model_artifact(model.model_id, str(f))
    client.log_model_artifact(model.model_id, str(f), "sub")
    assert [i.path for i in client.list_logged_model_artifacts(model.model_id)] == [
        "sub",
        "weights.bin",
    ]
    got = mlflow.artifacts.download_artifacts(
        f"models:/{model.model_id}", dst_path=str(tmp_path / "dl")
    )
    assert _tree(Path(got)) == {"sub/weights.bin": b"\x00\x01", "weights.bin": b"\x00\x01"}


def test_models_uri_of_a_missing_registered_model(uri: str) -> None:
    with pytest.raises(MlflowException) as error:
        mlflow.artifacts.download_artifacts("models:/my-model/1")
    assert error.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_log_artifact_to_a_missing_run_fails(uri: str, tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("x")
    with pytest.raises(MlflowException) as e:
        MlflowClient().log_artifact("0" * 32, str(f))
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
