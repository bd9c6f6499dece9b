"""State database: engine and sessions, dialect helpers, tables and migrations."""

from plentysync.db.engine import Backend, Database

__all__ = ["Backend", "Database"]
