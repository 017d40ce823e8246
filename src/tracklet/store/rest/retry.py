"""How the REST store waits for an unreachable or busy tracking server, and what it tells the user.

MLflow's defaults (7 retries, backoff factor 2) mean about four minutes of retrying; MLflow
says nothing until the end. Here the first failed attempt logs a warning at once naming the
server, the error and the plan (how many retries over how long, and the variables that set
it); each later retry logs one short line; the final error names the variables to change.
"""

from __future__ import annotations

import logging
import random
import time

from tracklet import env

_logger = logging.getLogger("tracklet.store.rest")

MAX_DELAY = 120.0  # one wait never exceeds two minutes (urllib3's BACKOFF_MAX, as MLflow's)
_VARIABLES = (
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER",
    "MLFLOW_HTTP_REQUEST_TIMEOUT",
)


class RetryPolicy:
    """MLflow's retry settings, read from its environment variables when the client is made."""

    def __init__(self) -> None:
        self.max_retries = max(0, env.MLFLOW_HTTP_REQUEST_MAX_RETRIES.get())
        self.backoff_factor = env.MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR.get()
        self.backoff_jitter = env.MLFLOW_HTTP_REQUEST_BACKOFF_JITTER.get()
        self.timeout = env.MLFLOW_HTTP_REQUEST_TIMEOUT.get()

    def base_delay(self, attempt: int) -> float:
        """The wait before retry ``attempt + 1`` without jitter: 0, then factor * 2**attempt."""
        return min(self.backoff_factor * (2**attempt), MAX_DELAY) if attempt else 0.0

    def delay(self, attempt: int) -> float:
        return self.base_delay(attempt) + random.uniform(0, self.backoff_jitter)

    def total_wait(self) -> float:
        """Seconds spent waiting if every retry fails (jitter at its largest)."""
        return sum(self.base_delay(a) + self.backoff_jitter for a in range(self.max_retries))

    def settings(self) -> str:
        values = (self.max_retries, self.backoff_factor, self.backoff_jitter, self.timeout)
        return ", ".join(
            f"{name}={value:g}" for name, value in zip(_VARIABLES, values, strict=True)
        )


class RetryReporter:
    """The messages of one request's retries.

    Args:
        policy: The retry settings.
        base_url: The server, as the user configured it.
        what: The request, e.g. ``POST api/2.0/mlflow/runs/log-batch``.
    """

    def __init__(self, policy: RetryPolicy, base_url: str, what: str) -> None:
        self.policy = policy
        self.base_url = base_url
        self.what = what
        self.started = time.monotonic()

    def retrying(self, reason: str, attempt: int, delay: float) -> None:
        """Log that retry ``attempt + 1`` follows in ``delay`` seconds, and why."""
        policy = self.policy
        if attempt == 0:
            _logger.warning(
                "Tracking server %s: %s (%s). Retrying up to %d times over about %.0f s "
                "(%s; set them to retry for less or longer).",
                self.base_url,
                reason,
                self.what,
                policy.max_retries,
                policy.total_wait(),
                policy.settings(),
            )
        else:
            _logger.warning(
                "Tracking server %s: %s; retry %d of %d in %.1f s.",
                self.base_url,
                reason,
                attempt + 1,
                policy.max_retries,
                delay,
            )

    def gave_up(self, reason: str, attempts: int) -> str:
        """The final error's message after ``attempts`` failed attempts."""
        elapsed = time.monotonic() - self.started
        return (
            f"Could not reach the tracking server at {self.base_url} ({self.what}): {reason}. "
            f"Gave up after {attempts} attempt{'s' if attempts != 1 else ''} in {elapsed:.1f} s "
            f"({self.policy.settings()}). Check that the server is running and the tracking URI "
            "is right; to wait longer, raise MLFLOW_HTTP_REQUEST_MAX_RETRIES or "
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR (and MLFLOW_HTTP_REQUEST_TIMEOUT for a slow "
            "server)."
        )

    def status_gave_up(self, status: int, attempts: int) -> None:
        """Log that a server kept answering ``status`` (the response becomes the error)."""
        _logger.warning(
            "Tracking server %s still answered HTTP %d after %d attempts (%s); giving up.",
            self.base_url,
            status,
            attempts,
            self.policy.settings(),
        )
