"""Host and Origin checks against DNS rebinding and cross-site requests, as MLflow has had since
3.5: a Host header outside the allowed patterns is refused with 403 (except on /health and
/version), and a state-changing API call from a foreign browser Origin is refused with 403.
"""

from __future__ import annotations

import fnmatch
import urllib.parse
from collections.abc import Sequence

INVALID_HOST_MESSAGE = "Invalid Host header - possible DNS rebinding attack detected"
CORS_BLOCKED_MESSAGE = "Cross-origin request blocked"
DUPLICATE_HOST_MESSAGE = "Bad Request: more than one Host header"
EXEMPT_PATHS = frozenset({"/health", "/version"})
STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_LOCALHOST_ORIGIN_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


class HostPolicy:
    """Which Host headers and Origins the server accepts."""

    def __init__(self, allowed_hosts: Sequence[str], allowed_origins: Sequence[str]) -> None:
        self.any_host = "*" in allowed_hosts
        self.exact_hosts = frozenset(h.lower() for h in allowed_hosts if "*" not in h)
        self.host_patterns = tuple(h.lower() for h in allowed_hosts if "*" in h and h != "*")
        self.any_origin = "*" in allowed_origins
        self.exact_origins = frozenset(o for o in allowed_origins if "*" not in o)
        self.origin_patterns = tuple(o for o in allowed_origins if "*" in o and o != "*")
        self._known_hosts: dict[str, bool] = {}

    def host_allowed(self, host: str) -> bool:
        if self.any_host:
            return True
        known = self._known_hosts.get(host)
        if known is not None:
            return known
        lowered = host.lower()
        allowed = bool(host) and (
            lowered in self.exact_hosts
            or any(fnmatch.fnmatchcase(lowered, p) for p in self.host_patterns)
        )
        if len(self._known_hosts) < 1024:  # a few names in practice; bounded against floods
            self._known_hosts[host] = allowed
        return allowed

    def origin_allowed(self, origin: str) -> bool:
        """Browser origins allowed to call the API: loopback ones and the configured ones."""
        if self.any_origin or origin in self.exact_origins:
            return True
        try:
            hostname = urllib.parse.urlparse(origin).hostname
        except ValueError:
            return False
        if hostname in _LOCALHOST_ORIGIN_HOSTS:
            return True
        return any(fnmatch.fnmatchcase(origin, p) for p in self.origin_patterns)


def is_api_path(path: str) -> bool:
    return path.startswith(("/api/", "/ajax-api/"))
