"""Databases for the tests: a SQLite file, and PostgreSQL when it is configured.

PostgreSQL comes from `DUECOURSE_TEST_POSTGRES_URL`, a server where the tests
may create databases. Each test session creates its own database there and
drops it at the end. Without the variable the PostgreSQL variants skip,
unless `DUECOURSE_REQUIRE_POSTGRES` is set (as CI does): then they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from duecourse.adapters.db.engine import make_engine, migrate
from duecourse.adapters.db.schema import metadata

POSTGRES_URL = os.environ.get("DUECOURSE_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = bool(os.environ.get("DUECOURSE_REQUIRE_POSTGRES"))


def pytest_sessionstart(session: pytest.Session) -> None:
    if REQUIRE_POSTGRES and not POSTGRES_URL:
        raise pytest.UsageError(
            "DUECOURSE_REQUIRE_POSTGRES is set but DUECOURSE_TEST_POSTGRES_URL "
            "is not: set it to a PostgreSQL server the tests may create "
            "databases on"
        )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set DUECOURSE_TEST_POSTGRES_URL")
    server = make_url(POSTGRES_URL)
    name = f"duecourse_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """The URL of an empty, migrated database, once per kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'duecourse.db'}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    engine = make_engine(url)
    with engine.begin() as connection:
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
