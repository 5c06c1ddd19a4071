"""Where benchmark books live: SQLite files or PostgreSQL databases.

Each book is built once as a template; every timed run gets a fresh copy of
it (a file copy, or CREATE DATABASE ... TEMPLATE), so all timings start from
the same state.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import psycopg
from rows import Row

SQLITE_LOAD_PRAGMAS = (
    "PRAGMA journal_mode=OFF",
    "PRAGMA synchronous=OFF",
    "PRAGMA cache_size=-262144",
    "PRAGMA temp_store=MEMORY",
)
SQLITE_APP_PRAGMAS = (
    # The pragmas duecourse's own engine sets; the baseline runs under them too.
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)


class Books(Protocol):
    """Named databases of one kind."""

    kind: str

    def url(self, name: str) -> str: ...

    def create(self, name: str) -> None: ...

    def copy(self, template: str, name: str) -> None: ...

    def drop(self, name: str) -> None: ...

    def load(
        self, name: str, table: str, columns: Sequence[str], chunks: Iterable[list[Row]]
    ) -> int: ...

    def finish(self, name: str) -> None: ...

    def connect(self, name: str) -> Any:
        """A DB-API connection as the application would configure it."""
        ...


class SqliteBooks:
    kind = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.db"

    def url(self, name: str) -> str:
        return f"sqlite:///{self.path(name)}"

    def create(self, name: str) -> None:
        self.drop(name)

    def copy(self, template: str, name: str) -> None:
        self.drop(name)
        shutil.copyfile(self.path(template), self.path(name))
        # Flush the copy now, so its write-back does not land in a timing.
        os.sync()

    def drop(self, name: str) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path(name)}{suffix}").unlink(missing_ok=True)

    def load(
        self, name: str, table: str, columns: Sequence[str], chunks: Iterable[list[Row]]
    ) -> int:
        statement = (
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        count = 0
        connection = sqlite3.connect(self.path(name), isolation_level=None)
        try:
            for pragma in SQLITE_LOAD_PRAGMAS:
                connection.execute(pragma)
            connection.execute("BEGIN")
            for chunk in chunks:
                connection.executemany(statement, chunk)
                count += len(chunk)
            connection.execute("COMMIT")
        finally:
            connection.close()
        return count

    def finish(self, name: str) -> None:
        # No ANALYZE: an embedded installation rarely has statistics, and the
        # run must not depend on them. Leave the file with no journal beside it.
        connection = sqlite3.connect(self.path(name), isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=DELETE")
        finally:
            connection.close()

    def connect(self, name: str) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path(name), isolation_level=None)
        for pragma in SQLITE_APP_PRAGMAS:
            connection.execute(pragma)
        return connection


class PostgresBooks:
    kind = "postgresql"

    def __init__(self, server_url: str) -> None:
        """`server_url` is a SQLAlchemy URL to the maintenance database."""
        base, _, _database = server_url.rpartition("/")
        self.base = base
        self.server = _driver_url(server_url)

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def create(self, name: str) -> None:
        self.drop(name)
        self._admin(f'CREATE DATABASE "{name}"')

    def copy(self, template: str, name: str) -> None:
        self.drop(name)
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        os.sync()

    def drop(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def load(
        self, name: str, table: str, columns: Sequence[str], chunks: Iterable[list[Row]]
    ) -> int:
        count = 0
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with (
            psycopg.connect(_driver_url(self.url(name))) as connection,
            connection.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            for chunk in chunks:
                copy.write("".join(_copy_line(row) for row in chunk))
                count += len(chunk)
        return count

    def finish(self, name: str) -> None:
        """Move the id sequences past the loaded ids and gather statistics, as
        autovacuum would soon after a load this size."""
        with psycopg.connect(_driver_url(self.url(name)), autocommit=True) as db:
            for table in ("clients", "contacts", "contracts", "invoices"):
                db.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            db.execute("VACUUM ANALYZE")

    def connect(self, name: str) -> psycopg.Connection[Any]:
        return psycopg.connect(_driver_url(self.url(name)))

    def _admin(self, statement: str) -> None:
        with psycopg.connect(self.server, autocommit=True) as connection:
            connection.execute(statement.encode())


def _driver_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _copy_line(row: Row) -> str:
    return "\t".join(r"\N" if v is None else str(v) for v in row) + "\n"
