"""Artifacts: repositories by URI scheme, and the one safe way to join paths to a root."""
