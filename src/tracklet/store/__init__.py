"""Storage: the TrackingStore interface, the URI-scheme lookup (``schemes``), implementations."""
