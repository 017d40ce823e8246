"""The REST store: TrackingStore over MLflow's REST protocol (a tracking server)."""
