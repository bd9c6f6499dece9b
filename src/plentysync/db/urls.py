"""Database URLs: which forms are accepted, the driver each backend uses, and redaction for display."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

# scheme as written by the operator -> the async driver plentysync runs on
_DRIVERS: dict[str, str] = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg",
    "mysql": "mysql+aiomysql",
    "mysql+aiomysql": "mysql+aiomysql",
    "mariadb": "mariadb+aiomysql",
    "mariadb+aiomysql": "mariadb+aiomysql",
}

SUPPORTED = "sqlite:///path.db, postgresql://user@host/db, mariadb://user@host/db (or mysql://)"


def normalize_database_url(raw: str) -> URL:
    """Parse ``raw`` and pin it to the async driver plentysync uses for that backend.

    Raises ``ValueError`` with a readable reason for anything else."""
    try:
        url = make_url(raw.strip())
    except ArgumentError as exc:
        raise ValueError(f"not a database URL ({exc}); use one of {SUPPORTED}") from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise ValueError(f"unsupported database '{url.drivername}'; use one of {SUPPORTED}")
    url = url.set(drivername=driver)
    if driver.startswith(("mysql", "mariadb")) and "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    if driver.startswith("sqlite") and url.database in (None, ""):
        raise ValueError("a SQLite URL needs a file path, e.g. sqlite:///var/plentysync.db")
    return url


def redact_url(url: URL | str) -> str:
    """The URL as text with any password replaced by ***."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)
