"""Databases for the tests: a SQLite file, and PostgreSQL when it is configured.

PostgreSQL comes from `DUECOURSE_TEST_POSTGRES_URL`, a server where the tests
may create databases. Each test session creates its own database there and
drops it at the end, so sessions never see each other. Without the variable
the PostgreSQL variants skip, unless `DUECOURSE_REQUIRE_POSTGRES` is set (as
CI does): then the session refuses to start. Every test starts from empty
tables.
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
def postgres_engine() -> Iterator[Engine]:
    """A fresh, migrated PostgreSQL database for this test session."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set DUECOURSE_TEST_POSTGRES_URL")
    name = f"duecourse_test_{uuid.uuid4().hex[:12]}"
    server = create_engine(
        make_url(POSTGRES_URL).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name)
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    folder: Path = tmp_path_factory.mktemp("sqlite")
    engine = make_engine(f"sqlite:///{folder / 'duecourse.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def engine(request: pytest.FixtureRequest) -> Engine:
    """An empty, migrated database, once per kind."""
    fixture = {"sqlite": "sqlite_engine", "postgresql": "postgres_engine"}
    engine: Engine = request.getfixturevalue(fixture[request.param])
    _empty(engine)
    return engine


@pytest.fixture
def database_url(engine: Engine) -> str:
    """The URL of the `engine` database, for code that connects by itself."""
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def postgres_url(postgres_engine: Engine) -> str:
    """An empty PostgreSQL database's URL, for tests that need PostgreSQL."""
    _empty(postgres_engine)
    return postgres_engine.url.render_as_string(hide_password=False)


def _empty(engine: Engine) -> None:
    tables = list(reversed(metadata.sorted_tables))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())
