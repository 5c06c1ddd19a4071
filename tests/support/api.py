"""API keys for tests of `/api/v1`."""

from __future__ import annotations

from sqlalchemy import Engine

from duecourse.adapters.db.api_store import SqlApiKeyStore
from duecourse.services.api_keys import create_key, parse_scopes
from tests.support.web import NOW


def api_key(engine: Engine, *scopes: str, name: str = "billing system") -> str:
    """A new key's bearer token."""
    created = create_key(
        SqlApiKeyStore(engine), name, parse_scopes(scopes), "test", NOW
    )
    return created.token


def bearer(token: str, idempotency_key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return headers
