"""The change-cursor interface: what live updates read to learn which runs changed.

Every write to a run (created; status, end time, name or lifecycle changed; a metric, param or
tag written) gives the run a *change number* above every earlier one, across the store (SQL:
the ``runs.change_seq`` column kept by triggers), unless the run holds the largest number
already. A reader keeps the largest number it has seen (its cursor) and asks for the runs
numbered from it on, comparing what they hold with what it knows; any process over the same
store can answer, so a client on one server worker sees what another worker, server or process
wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class ChangedRun:
    run_id: str
    status: str
    end_time: int | None
    change_seq: int


@runtime_checkable
class ChangeStore(Protocol):
    def change_cursor(self) -> int:
        """The largest change number in the store (0 before any change)."""
        ...

    def changed_runs(
        self, experiment_ids: Sequence[str], run_ids: Sequence[str], after: int
    ) -> list[ChangedRun]:
        """The runs of these experiments, or these runs, numbered ``after`` or above (the run
        holding a reader's cursor may have changed again without a new number); a store whose
        writers commit out of number order answers some numbered a little below too."""
        ...

    def latest_metric_steps(self, run_ids: Sequence[str]) -> list[tuple[str, str, int, int]]:
        """(run id, key, last step, its timestamp) of every metric of these runs."""
        ...
