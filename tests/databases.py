"""Test databases on the three backends: a throw-away database per test session, an empty schema per test.

Server URLs come from PLENTYSYNC_TEST_POSTGRES_URL / PLENTYSYNC_TEST_MARIADB_URL (defaults: the local
services on 127.0.0.1). When a server is down the tests that need it skip, except under CI=true,
where they fail: CI must prove every backend.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BACKENDS = ("sqlite", "postgresql", "mariadb")

SERVER_DEFAULTS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "mariadb": "mariadb+pymysql://root@127.0.0.1:3306/test",
}
ENV = {"postgresql": "PLENTYSYNC_TEST_POSTGRES_URL", "mariadb": "PLENTYSYNC_TEST_MARIADB_URL"}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} (CI=true: every database backend must be tested)")
    pytest.skip(reason)


def admin_url(backend: str) -> str:
    raw = os.environ.get(ENV[backend], SERVER_DEFAULTS[backend])
    url = make_url(raw)
    # the admin connection is synchronous: use the sync driver of each backend
    driver = {"postgresql": "postgresql+psycopg", "mariadb": "mariadb+pymysql"}[backend]
    return url.set(drivername=driver).render_as_string(hide_password=False)


@dataclass
class DatabaseUnderTest:
    backend: str
    url: str
    """Async URL plentysync connects with."""


@contextmanager
def server_database(backend: str) -> Iterator[DatabaseUnderTest]:
    """Create a uniquely named database on the server, yield its URL, drop it afterwards."""
    name = f"plentysync_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = admin_url(backend)
    try:
        # pre-ping: the connection must survive a server restart (tests/integration/runtime/test_crash.py)
        engine = create_engine(admin, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        with engine.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:
        unavailable(f"{backend} is not reachable at {make_url(admin).render_as_string(hide_password=True)}: {exc}")
    url = make_url(admin).set(database=name)
    url = url.set(drivername={"postgresql": "postgresql+psycopg", "mariadb": "mariadb+aiomysql"}[backend])
    try:
        yield DatabaseUnderTest(backend, url.render_as_string(hide_password=False))
    finally:
        with engine.connect() as conn:
            if backend == "postgresql":
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        engine.dispose()
