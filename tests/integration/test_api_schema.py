"""The OpenAPI document against the app: generated requests never get a 5xx.

Schemathesis reads `/api/openapi.json` from the app in process and, for every
`/api/v1` operation, generates requests (with a valid key of every scope)
that must never get a server error. SQLite only: the API's queries are the
same on both databases, and the examples are many.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from sqlalchemy import Engine

from duecourse.adapters.db.schema import metadata
from tests.integration.book import add_client, add_invoice, apply_default_rule
from tests.support.api import api_key
from tests.support.web import web_app

EXAMPLES_PER_OPERATION = 40


@pytest.fixture
def token(sqlite_engine: Engine) -> str:
    """A key with every scope, over a small book: one client, one invoice."""
    with sqlite_engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
    apply_default_rule(sqlite_engine)
    acme = add_client(sqlite_engine, "acme")
    add_invoice(sqlite_engine, acme, "A-1", date(2026, 1, 10))
    return api_key(sqlite_engine, "read", "write", "admin")


@pytest.mark.slow
def test_no_generated_request_gets_a_server_error(
    sqlite_engine: Engine, tmp_path: Path, token: str
) -> None:
    app = web_app(sqlite_engine, tmp_path)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    results = list(schema.include(path_regex="^/api/v1/").get_all_operations())
    assert all(isinstance(result, Ok) for result in results), "the schema is valid"
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    headers = {"Authorization": f"Bearer {token}"}

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: schemathesis.Case[Any]) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])

        no_server_error()

    documented = app.openapi()["paths"]
    expected = sum(
        len(methods)
        for path, methods in documented.items()
        if path.startswith("/api/v1/")
    )
    assert len(operations) == expected > 20, "every documented operation was tried"
