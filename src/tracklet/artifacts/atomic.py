"""Files written whole or not at all: the data goes to a temporary name beside the target and
is renamed into place when complete, so a failure (a full disk, a kill, an upload cut short)
leaves the previous file or nothing, never a truncated or empty artifact."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def replaced_on_success(target: str) -> Iterator[str]:
    """Yield a temporary path beside ``target``; rename it to ``target`` if the block
    succeeds, delete it if the block raises."""
    directory, name = os.path.split(target)
    temporary = os.path.join(directory, f".{name}.{uuid.uuid4().hex}.part")
    try:
        yield temporary
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
