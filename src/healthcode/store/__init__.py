"""The store: SQLAlchemy Core tables and repositories, on SQLite (default) or PostgreSQL."""
