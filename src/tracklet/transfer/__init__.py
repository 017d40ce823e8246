"""Moving tracking data between MLflow and tracklet: ``tracklet import`` reads an MLflow
database (SQLite or PostgreSQL) with SQLAlchemy Core and writes tracklet's tables in bulk, ids
kept; ``tracklet export`` writes MLflow 3.17.2's tables from a tracklet store. MLflow itself is
never imported: its tables are described in ``mlflow_tables``."""
