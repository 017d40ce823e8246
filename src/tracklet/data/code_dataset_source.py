"""The default source of a dataset built in code: the run-context tags of the calling program."""

from __future__ import annotations

from typing import Any

from tracklet.data.dataset_source import DatasetSource


class CodeDatasetSource(DatasetSource):
    """A dataset built by code; ``tags`` say which (``mlflow.source.name``, git commit, ...)."""

    def __init__(self, tags: dict[Any, Any] | None) -> None:
        self._tags = tags

    @staticmethod
    def _get_source_type() -> str:
        return "code"

    def load(self, **kwargs: Any) -> Any:
        """Code sources cannot be loaded."""
        raise NotImplementedError

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        return False

    @classmethod
    def _resolve(cls, raw_source: Any) -> CodeDatasetSource:
        raise NotImplementedError

    def to_dict(self) -> dict[Any, Any]:
        return {"tags": self._tags}

    @classmethod
    def from_dict(cls, source_dict: dict[Any, Any]) -> CodeDatasetSource:
        return cls(tags=source_dict.get("tags"))


def code_source_for_caller() -> CodeDatasetSource:
    """The source MLflow records when none is given: the context tags a new run would get."""
    from tracklet.tracking import system_tags

    return CodeDatasetSource(tags=system_tags.context_tags())
