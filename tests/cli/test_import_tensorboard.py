"""``tracklet import LOGDIR``: TensorBoard scalars become runs. Event files are written by
tensorboardX: ``add_scalar`` (simple_value, as PyTorch's SummaryWriter writes them) and TF2's
tensor scalars (``tf.summary.scalar``: a TensorProto with the scalars plugin), built with the
protobuf classes tensorboardX ships."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tracklet.cli import main
from tracklet.tracking.client import MlflowClient

tensorboardX = pytest.importorskip("tensorboardX")


def _tf2_scalar(tag: str, value: float) -> object:
    from tensorboardX.proto import summary_pb2, tensor_pb2, tensor_shape_pb2

    tensor = tensor_pb2.TensorProto(
        dtype=1, tensor_shape=tensor_shape_pb2.TensorShapeProto(), float_val=[value]
    )
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
    )
    return summary_pb2.Summary(
        value=[summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=metadata)]
    )


def test_event_files_become_runs(tmp_path: Path) -> None:
    logdir = tmp_path / "tb-logs"
    expected: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for name, tf2 in (("baseline", False), ("wide/lr0.1", True)):
        writer = tensorboardX.SummaryWriter(str(logdir / name))
        for step in range(0, 50, 7):
            for tag, value in (("loss", 1.0 / (step + 1)), ("eval/acc", step / 100)):
                if tf2:
                    writer._get_file_writer().add_summary(_tf2_scalar(tag, value), step)
                else:
                    writer.add_scalar(tag, value, step)
        writer.add_text("note", "not a scalar", 0)
        writer.close()
        expected[name] = {
            "loss": [(s, 1.0 / (s + 1)) for s in range(0, 50, 7)],
            "eval/acc": [(s, s / 100) for s in range(0, 50, 7)],
        }
    uri = f"sqlite:///{tmp_path / 'tb.db'}"
    result = CliRunner().invoke(main, ["import", str(logdir), "--to", uri], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("tb-logs")
    assert experiment is not None
    runs = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    assert set(runs) == set(expected)
    for name, series in expected.items():
        run = runs[name]
        assert run.info.status == "FINISHED"
        for key, points in series.items():
            history = client.get_metric_history(run.info.run_id, key)
            got = [(m.step, m.value) for m in history]
            assert [s for s, _ in got] == [s for s, _ in points]
            assert [v for _, v in got] == pytest.approx([v for _, v in points], rel=1e-6)  # float32
    again = CliRunner().invoke(main, ["import", str(logdir), "--to", uri], catch_exceptions=False)
    assert again.output.splitlines()[2].split() == ["runs", "already", "present", "2"]
    assert len(client.search_runs([experiment.experiment_id])) == 2


def test_a_directory_without_event_files_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["import", str(tmp_path), "--to", f"sqlite:///{tmp_path / 'x.db'}"]
    )
    assert result.exit_code == 1
    assert "holds no TensorBoard event files" in result.output
    assert "nor a database URI" in result.output
