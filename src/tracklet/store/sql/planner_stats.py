"""PostgreSQL planner statistics for the tables a run search joins, never missing.

A table PostgreSQL has never analyzed has no column statistics, and the planner then takes
``key = 'acc' AND value >= 0.05`` on latest_metrics for a couple of rows: it plans
``metrics.acc >= 0.05 and params.lr = '0.01' ORDER BY metrics.acc DESC`` as a nested loop
re-reading every matching metric row per matching param row, quadratic in the runs (3.3 s at
5,000 runs, hours at 100,000) where the analyzed plan takes milliseconds. Autovacuum analyzes a
table within a minute of it filling, but it may be off (it is on some test servers and managed
databases), and a deployment filled by an import is searched at once.

So a run search first checks, at most every CHECK_EVERY_S per store and in one catalog query,
whether a searched table of at least MIN_PAGES pages has no statistics or has grown past
GROWTH times its pages at its last analyze, and analyzes those tables then (tens of ms at 100k
runs, once). ``SKIP_LOCKED``: a table another server or autovacuum is analyzing is skipped,
never waited for. Tables below MIN_PAGES are left alone: a bad plan there costs microseconds.
"""

from __future__ import annotations

import logging
import threading
import time

from tracklet.store.sql.compiled import Db

_logger = logging.getLogger(__name__)

SEARCHED_TABLES = ("runs", "latest_metrics", "params", "tags")
CHECK_EVERY_S = 60.0
MIN_PAGES = 32
GROWTH = 4

# The searched tables (as the search path finds them) worth analyzing: no column statistics
# at all, or many times the pages they had when last analyzed (relpages is set by ANALYZE).
_STALE = f"""
SELECT c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (
    SELECT pg_relation_size(c.oid) / current_setting('block_size')::int AS pages
) AS size
WHERE c.oid IN ({", ".join(f"to_regclass('{t}')" for t in SEARCHED_TABLES)})
  AND size.pages >= {MIN_PAGES}
  AND (size.pages > {GROWTH} * c.relpages
       OR NOT EXISTS (SELECT 1 FROM pg_stats s
                      WHERE s.schemaname = n.nspname AND s.tablename = c.relname))
ORDER BY c.relname
"""


def stale_tables(db: Db) -> list[str]:
    """The searched tables whose statistics are missing or far behind their size."""
    return [row[0] for row in db.dbapi.execute(_STALE, prepare=False).fetchall()]


class PlannerStats:
    """Analyzes a store's stale searched tables, checking at most every CHECK_EVERY_S."""

    def __init__(self, dialect_name: str) -> None:
        self._enabled = dialect_name == "postgresql"
        self._next_check = 0.0
        self._lock = threading.Lock()

    def ensure(self, db: Db) -> list[str]:
        """Analyze the stale searched tables through ``db`` (an autocommit connection) if a
        check is due; the tables analyzed. Errors (no ownership, say) are logged, not raised:
        the search runs either way."""
        if not self._enabled or time.monotonic() < self._next_check:
            return []
        if not self._lock.acquire(blocking=False):
            return []  # another thread of this store is checking
        try:
            self._next_check = time.monotonic() + CHECK_EVERY_S
            stale = stale_tables(db)
            if stale:
                started = time.perf_counter()
                db.dbapi.execute(f"ANALYZE (SKIP_LOCKED) {', '.join(stale)}")
                _logger.info(
                    "analyzed %s for the search planner in %.0f ms",
                    ", ".join(stale),
                    (time.perf_counter() - started) * 1000,
                )
            return stale
        except Exception as error:
            _logger.warning("planner statistics not refreshed: %s", error)
            return []
        finally:
            self._lock.release()
