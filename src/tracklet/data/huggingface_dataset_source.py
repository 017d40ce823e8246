"""``HuggingFaceDatasetSource``: where ``datasets.load_dataset`` reloads a Hugging Face data set
from (MLflow's source type ``hugging_face``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tracklet.data.dataset_source import DatasetSource


class HuggingFaceDatasetSource(DatasetSource):
    """A data set ``datasets.load_dataset`` can load again (``config_name`` is its ``name``)."""

    def __init__(
        self,
        path: str,
        config_name: str | None = None,
        data_dir: str | None = None,
        data_files: str | Sequence[str] | Mapping[str, str | Sequence[str]] | None = None,
        split: Any = None,
        revision: Any = None,
        trust_remote_code: bool | None = None,
    ) -> None:
        self.path = path
        self.config_name = config_name
        self.data_dir = data_dir
        self.data_files = data_files
        self.split = split
        self.revision = revision
        self.trust_remote_code = trust_remote_code

    @staticmethod
    def _get_source_type() -> str:
        return "hugging_face"

    def load(self, **kwargs: Any) -> Any:
        """``datasets.load_dataset`` with this source's arguments (plus ``kwargs``).

        Raises:
            KeyError: If ``kwargs`` repeats one of the source's own arguments.
        """
        import datasets  # type: ignore[import-untyped,import-not-found,unused-ignore]

        arguments = {
            "path": self.path,
            "name": self.config_name,
            "data_dir": self.data_dir,
            "data_files": self.data_files,
            "split": self.split,
            "revision": self.revision,
            "trust_remote_code": self.trust_remote_code,
        }
        if duplicated := set(arguments) & set(kwargs):
            raise KeyError(
                "Found duplicated arguments in `HuggingFaceDatasetSource` and `kwargs`: "
                f"{duplicated}. Please remove them from `kwargs`."
            )
        return datasets.load_dataset(**arguments, **kwargs)

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        return False

    @classmethod
    def _resolve(cls, raw_source: Any) -> HuggingFaceDatasetSource:
        raise NotImplementedError

    def to_dict(self) -> dict[Any, Any]:
        return {
            "path": self.path,
            "config_name": self.config_name,
            "data_dir": self.data_dir,
            "data_files": self.data_files,
            "split": str(self.split),
            "revision": self.revision,
        }

    @classmethod
    def from_dict(cls, source_dict: dict[Any, Any]) -> HuggingFaceDatasetSource:
        return cls(
            path=source_dict["path"],
            config_name=source_dict.get("config_name"),
            data_dir=source_dict.get("data_dir"),
            data_files=source_dict.get("data_files"),
            split=source_dict.get("split"),
            revision=source_dict.get("revision"),
        )
