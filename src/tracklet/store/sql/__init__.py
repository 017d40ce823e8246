"""The SQL store: SQLite (embedded default) and PostgreSQL, on SQLAlchemy Core."""
