"""Storage: the TrackingStore interface, the URI-scheme registry and its implementations."""
