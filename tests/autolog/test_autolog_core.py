"""Autologging semantics (issue 11, item 4): run handling, safety, switches, patches, hooks."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tracklet
from tracklet.autolog import _config, _hooks, patched

pytestmark = pytest.mark.filterwarnings("default::FutureWarning")


@pytest.fixture(autouse=True)
def _store(sqlite_uri: str) -> Any:
    tracklet.set_tracking_uri(sqlite_uri)
    yield
    tracklet.autolog(disable=True)
    tracklet.sklearn.autolog(disable=True)
    _config.INTEGRATIONS.clear()


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    return x, (x[:, 0] > 0).astype(int)


def _fast(**options: Any) -> None:
    tracklet.sklearn.autolog(log_models=False, log_datasets=False, **options)


def test_fit_outside_a_run_creates_and_finishes_one() -> None:
    from sklearn.linear_model import LogisticRegression

    _fast(extra_tags={"team": "a"})
    LogisticRegression().fit(*_data())
    assert tracklet.active_run() is None
    run = tracklet.last_active_run()
    assert run is not None
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    assert run.data.tags["team"] == "a"
    assert run.data.params["C"] == "1.0"


def test_fit_inside_a_user_run_logs_there_and_leaves_it_open() -> None:
    from sklearn.linear_model import LogisticRegression

    _fast()
    with tracklet.start_run() as run:
        LogisticRegression().fit(*_data())
        assert tracklet.active_run().info.run_id == run.info.run_id
        logged = tracklet.get_run(run.info.run_id)
        assert logged.info.status == "RUNNING"
        assert "training_score" in logged.data.metrics
        assert "mlflow.autologging" not in logged.data.tags
    assert len(tracklet.search_runs(output_format="list")) == 1


def test_exclusive_leaves_user_runs_alone() -> None:
    from sklearn.linear_model import LogisticRegression

    _fast(exclusive=True)
    with tracklet.start_run() as run:
        LogisticRegression().fit(*_data())
    assert tracklet.get_run(run.info.run_id).data.params == {}
    LogisticRegression().fit(*_data())  # outside a user run it still logs
    assert tracklet.last_active_run().data.params["C"] == "1.0"


def test_meta_estimator_logs_once() -> None:
    from sklearn.ensemble import BaggingClassifier
    from sklearn.tree import DecisionTreeClassifier

    _fast()
    BaggingClassifier(DecisionTreeClassifier(), n_estimators=3).fit(*_data())
    runs = tracklet.search_runs(output_format="list")
    assert len(runs) == 1
    assert runs[0].data.tags["estimator_name"] == "BaggingClassifier"
    assert "estimator__max_depth" in runs[0].data.params


def test_user_exception_fails_the_run_and_is_reraised() -> None:
    from sklearn.linear_model import LogisticRegression

    _fast()
    x, _ = _data()
    y = np.full(len(x), np.nan)
    with pytest.raises(ValueError, match="NaN") as raised:
        LogisticRegression().fit(x, y)
    assert type(raised.value) is ValueError  # the user's own exception, not a wrapper
    assert tracklet.active_run() is None
    assert tracklet.last_active_run().info.status == "FAILED"


@pytest.mark.parametrize("silent", [False, True])
def test_logging_errors_never_break_training(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, silent: bool
) -> None:
    from sklearn.linear_model import LogisticRegression

    from tracklet.sklearn import _autolog

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("store is down")

    monkeypatch.setattr(_autolog, "_log_pretraining", broken)
    _fast(silent=silent)
    with caplog.at_level(logging.WARNING, logger="tracklet.autolog"):
        model = LogisticRegression().fit(*_data())
    assert hasattr(model, "coef_")
    warned = [r for r in caplog.records if "store is down" in r.getMessage()]
    assert (warned == []) is silent


def test_disable_removes_every_patch_and_patches_never_stack() -> None:
    from sklearn import metrics
    from sklearn.linear_model import LogisticRegression

    original_fit = LogisticRegression.fit
    original_accuracy = metrics.accuracy_score
    _fast()
    count = len(patched("sklearn"))
    _fast()  # again: same number of patches, one wrapper deep
    assert len(patched("sklearn")) == count > 100
    assert LogisticRegression.fit.__tracklet_original__ is original_fit  # type: ignore[attr-defined]
    tracklet.sklearn.autolog(disable=True)
    assert patched() == []
    assert LogisticRegression.fit is original_fit
    assert metrics.accuracy_score is original_accuracy
    LogisticRegression().fit(*_data())
    assert tracklet.last_active_run() is None


def test_universal_autolog_options_and_exclusions() -> None:
    from sklearn.linear_model import LogisticRegression

    tracklet.autolog(exclude_flavors=["sklearn"])
    assert patched("sklearn") == []
    tracklet.autolog(log_models=False, log_datasets=False, extra_tags={"via": "autolog"})
    assert _config.get_config("sklearn", "log_models") is False
    LogisticRegression().fit(*_data())
    run = tracklet.last_active_run()
    assert run.data.tags["via"] == "autolog"
    assert tracklet.search_logged_models(output_format="list") == []
    # A flavor configured by the user keeps its own options over a later tracklet.autolog().
    tracklet.sklearn.autolog(log_models=False, log_datasets=False, max_tuning_runs=2)
    tracklet.autolog(log_models=True)
    assert _config.get_config("sklearn", "log_models") is False
    tracklet.autolog(disable=True)
    assert patched() == []


def test_disable_for_unsupported_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    from sklearn.linear_model import LogisticRegression

    monkeypatch.setitem(
        _config.SUPPORTED_VERSIONS, "sklearn", ("sklearn", "scikit-learn", "0.1.0", "0.2.0")
    )
    _fast(disable_for_unsupported_versions=True)
    LogisticRegression().fit(*_data())
    assert tracklet.last_active_run() is None
    _fast()  # without the switch an untested version still logs
    LogisticRegression().fit(*_data())
    assert tracklet.last_active_run() is not None


def test_post_import_hook_runs_once_the_module_is_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tracklet_hook_probe.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen: list[Any] = []
    _hooks.register_post_import_hook(seen.append, "tracklet_hook_probe", key="probe")
    _hooks.register_post_import_hook(seen.append, "tracklet_hook_probe", key="probe")
    assert seen == []
    try:
        import tracklet_hook_probe  # type: ignore[import-not-found]

        assert seen == [tracklet_hook_probe]
        assert not isinstance(tracklet_hook_probe.__loader__, _hooks._HookLoader)
        _hooks.register_post_import_hook(seen.append, "tracklet_hook_probe", key="late")
        assert len(seen) == 2  # already imported: at once
    finally:
        _hooks.unregister_post_import_hooks("tracklet_hook_probe")
        sys.modules.pop("tracklet_hook_probe", None)


def test_a_later_import_keeps_a_flavor_autolog_called_after_a_global_disable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracklet.autolog import LIBRARY_TO_FLAVOR

    # A second library of the flavor, imported only after the user's own sklearn.autolog()
    # (as pytorch_lightning is imported by pytorch.autolog() after lightning).
    (tmp_path / "tracklet_second_lib.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(LIBRARY_TO_FLAVOR, "tracklet_second_lib", "sklearn")
    tracklet.autolog(disable=True)
    _fast()
    assert patched("sklearn")
    try:
        import tracklet_second_lib  # type: ignore[import-not-found]  # noqa: F401

        assert patched("sklearn")  # the earlier global disable's hook left the user's call alone
        assert not _config.is_disabled("sklearn")
    finally:
        _hooks.unregister_post_import_hooks("tracklet_second_lib")
        sys.modules.pop("tracklet_second_lib", None)


def test_autolog_before_importing_sklearn(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        import tracklet
        tracklet.set_tracking_uri("sqlite:///{tmp_path / "hook.db"}")
        tracklet.autolog(log_models=False, log_datasets=False)
        assert "sklearn" not in sys.modules
        import numpy as np
        from sklearn.linear_model import LinearRegression
        x = np.arange(20.0).reshape(10, 2)
        LinearRegression().fit(x, x.sum(axis=1))
        run = tracklet.last_active_run()
        print(sorted(run.data.metrics))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=240, check=True
    )
    assert "training_r2_score" in out.stdout


def test_import_tracklet_stays_light() -> None:
    heavy = ("sklearn", "numpy", "pandas", "matplotlib", "torch", "lightning", "keras")
    code = f"import sys, tracklet; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
