"""What ``tracklet.__version__`` reports, and tracklet's own version.

Code written for MLflow reads ``mlflow.__version__`` (or ``mlflow.version.VERSION``) to choose
code paths, so tracklet reports the version of MLflow's API it implements: ``3.17.2``. Its own
release is ``TRACKLET_VERSION`` (the version in ``pyproject.toml``).
"""

from __future__ import annotations

# The MLflow release whose Python API and REST protocol tracklet follows (tests compare with it).
VERSION = "3.17.2"
# tracklet's own release (pyproject.toml's ``version``; a test keeps the two equal).
TRACKLET_VERSION = "0.1.0"

__all__ = ["TRACKLET_VERSION", "VERSION"]
