"""A store call that must wait behind another connection's uncommitted transaction."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


def waits_for_commit(conn: Any, call: Callable[[], object]) -> None:
    """Run ``call`` on a thread of its own: it must still be waiting half a second later, while
    ``conn``'s transaction is open, and must return once ``conn`` commits."""
    done = threading.Event()

    def run() -> None:
        call()
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)
    assert not done.is_set()  # waiting for the lock the transaction holds
    conn.commit()
    thread.join(10)
    assert done.is_set()
