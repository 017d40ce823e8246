"""FileInfo: one entry of an artifact listing."""

from __future__ import annotations

from dataclasses import dataclass

from tracklet.entities._base import _Entity


@dataclass(frozen=True, slots=True)
class FileInfo(_Entity):
    """A file or directory under an artifact root.

    ``path`` is relative to the root that was listed (``dir/sub`` for an entry of ``dir``);
    ``file_size`` is None for directories.
    """

    path: str
    is_dir: bool
    file_size: int | None = None
