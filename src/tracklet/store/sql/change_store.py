"""The change cursor on SQL (``store.change_base``): reads of ``runs.change_seq``, which the
triggers of ``change_triggers`` keep. Each read is an index range scan: an idle experiment
costs one index probe a poll."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from tracklet.store.change_base import ChangedRun
from tracklet.store.sql.schema import latest_metrics, runs
from tracklet.store.sql.store_base import SqlStoreBase

# PostgreSQL numbers from a sequence: a transaction may commit after one that took a larger
# number. Readers look back this many numbers and skip the runs they already handled. SQLite
# has one writer at a time, so commit order is number order there.
LOOK_BACK = 1000


class ChangeSqlStore(SqlStoreBase):
    def change_cursor(self) -> int:
        with self._reader() as db:
            row = db.execute_core(sa.select(sa.func.max(runs.c.change_seq))).fetchone()
        return int(row[0] or 0) if row else 0

    def changed_runs(
        self, experiment_ids: Sequence[str], run_ids: Sequence[str], after: int
    ) -> list[ChangedRun]:
        if not experiment_ids and not run_ids:
            return []
        since = after - 1 if self._dialect_name == "sqlite" else after - 1 - LOOK_BACK
        scope = (
            runs.c.run_uuid.in_(list(run_ids))
            if run_ids
            else runs.c.experiment_id.in_([int(e) for e in experiment_ids if e.isdigit()])
        )
        query = sa.select(runs.c.run_uuid, runs.c.status, runs.c.end_time, runs.c.change_seq).where(
            scope, runs.c.change_seq > since
        )
        with self._reader() as db:
            rows = db.execute_core(query).fetchall()
        return [ChangedRun(r[0], r[1], r[2], int(r[3])) for r in rows]

    def latest_metric_steps(self, run_ids: Sequence[str]) -> list[tuple[str, str, int, int]]:
        if not run_ids:
            return []
        query = sa.select(
            latest_metrics.c.run_uuid,
            latest_metrics.c.key,
            latest_metrics.c.step,
            latest_metrics.c.timestamp,
        ).where(latest_metrics.c.run_uuid.in_(list(run_ids)))
        with self._reader() as db:
            rows = db.execute_core(query).fetchall()
        return [(r[0], r[1], int(r[2]), int(r[3])) for r in rows]
