"""What tracklet.__version__ reports: the MLflow API version it implements (README, Versions)."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import tracklet
from tracklet import version


def test_version_is_the_mlflow_api_version() -> None:
    import mlflow

    assert tracklet.__version__ == mlflow.__version__ == "3.17.2"
    assert tracklet.__version__ == version.VERSION
    # The same comparisons version-checking code makes take MLflow 3.17.2's paths.
    from packaging.version import Version

    assert Version(tracklet.__version__) >= Version("3.0")


def test_tracklet_version_is_the_package_version() -> None:
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    declared = re.search(r'^version = "([^"]+)"', pyproject, re.MULTILINE)
    assert declared is not None
    assert tracklet.TRACKLET_VERSION == declared.group(1) == metadata.version("tracklet")
