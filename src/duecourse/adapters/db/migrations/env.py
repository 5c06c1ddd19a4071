"""Alembic environment: runs on the connection handed over by `migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from duecourse.adapters.db.schema import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is None:
    # Run from the alembic command line, for authoring a new migration.
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    connection = engine.connect()

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
