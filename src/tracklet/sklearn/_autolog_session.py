"""The sklearn fit in progress: a Pipeline's or a search's inner fits see it and do not log
(xgboost's and lightgbm's training functions consult it too)."""

from __future__ import annotations

from tracklet.autolog._training import TrainingSession


class SklearnTrainingSession(TrainingSession):
    """An autologged sklearn-API fit (one stack per thread)."""
