"""The tracking server: MLflow's REST protocol over a TrackingStore (Starlette on uvicorn)."""
