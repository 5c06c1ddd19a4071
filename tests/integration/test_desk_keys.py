"""The desk's API keys page (admins) and webhook delivery attempts (managers)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from httpx import Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from duecourse.adapters.db.api_store import SqlApiKeyStore
from duecourse.adapters.db.api_tables import WebhookDelivery
from duecourse.adapters.db.models import AuditEntry, Message
from duecourse.services.api_keys import Scope, create_key, revoke_key
from tests.integration.book import add_client
from tests.support.web import NOW, TestClient, add_user, csrf_of, log_in, web_app

TOKEN = re.compile(r"dc_[0-9a-f]{12}_[A-Za-z0-9_-]{40,}")


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> TestClient:
    return TestClient(web_app(engine, tmp_path))


def signed_in(client: TestClient, engine: Engine, role: str) -> None:
    add_user(engine, f"{role}@example.com", role)
    assert log_in(client, f"{role}@example.com").status_code == 303


def clients_with(client: TestClient, token: str) -> int:
    response: Response = client.get(
        "/api/v1/clients", headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code


def test_an_admin_creates_a_key_seen_once_that_works_until_revoked(
    engine: Engine, client: TestClient
) -> None:
    signed_in(client, engine, "admin")
    created = client.post(
        "/desk/api-keys",
        data={
            "name": "billing system",
            "scopes": ["read", "write"],
            "csrf_token": csrf_of(client, "/desk/api-keys"),
        },
    )
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    assert "will not be shown again" in created.text
    found = TOKEN.search(created.text)
    assert found, "no token on the result page"
    token = found.group(0)
    prefix = token.split("_")[1]

    listed = client.get("/desk/api-keys")
    assert token not in listed.text
    assert token.rsplit("_", 1)[1] not in listed.text
    assert "billing system" in listed.text
    assert f"dc_{prefix}" in listed.text
    assert "admin@example.com" in listed.text
    assert clients_with(client, token) == 200

    revoked = client.post(
        f"/desk/api-keys/{prefix}/revoke",
        data={"csrf_token": csrf_of(client, "/desk/api-keys")},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert clients_with(client, token) == 401
    assert (
        f'action="/desk/api-keys/{prefix}/revoke"'
        not in client.get("/desk/api-keys").text
    )


def test_a_key_needs_a_scope_and_revoking_needs_the_csrf_token(
    engine: Engine, client: TestClient
) -> None:
    signed_in(client, engine, "admin")
    token = csrf_of(client, "/desk/api-keys")

    no_scope = client.post("/desk/api-keys", data={"name": "x", "csrf_token": token})
    no_csrf = client.post("/desk/api-keys", data={"name": "x", "scopes": "read"})

    assert no_scope.status_code == 422
    assert "no scope given" in no_scope.text
    assert no_csrf.status_code == 403
    assert "No keys yet." in client.get("/desk/api-keys").text


@pytest.mark.parametrize("role", ["collector", "manager"])
def test_only_admins_see_or_create_keys(
    engine: Engine, client: TestClient, role: str
) -> None:
    signed_in(client, engine, role)
    token = csrf_of(client, "/desk/today")

    assert client.get("/desk/api-keys").status_code == 403
    created = client.post(
        "/desk/api-keys", data={"name": "x", "scopes": "admin", "csrf_token": token}
    )
    assert created.status_code == 403
    assert "/desk/api-keys" not in client.get("/desk/today").text


def test_a_webhook_message_shows_its_delivery_attempts(
    engine: Engine, client: TestClient
) -> None:
    client_id = add_client(engine, "acme")
    message_id = str(uuid.uuid4())
    with Session(engine) as session:
        session.add(
            Message(
                id=message_id,
                client_id=client_id,
                channel="webhook",
                template="client.suspend",
                language="pt_BR",
                recipients="",
                context={},
                run_on=NOW.date(),
                status="sent",
                attempts=2,
                next_attempt_at=NOW,
                claimed_until=None,
                last_error=None,
                sent_at=NOW,
                created_at=NOW,
            )
        )
        session.add_all(
            [
                WebhookDelivery(
                    message_id=message_id,
                    attempt=1,
                    status_code=503,
                    error="webhook answered 503",
                    at=NOW - timedelta(minutes=5),
                ),
                WebhookDelivery(
                    message_id=message_id,
                    attempt=2,
                    status_code=200,
                    error=None,
                    at=NOW,
                ),
            ]
        )
        session.commit()
    signed_in(client, engine, "manager")

    outbox = client.get("/desk/outbox")
    detail = client.get(f"/desk/outbox/{message_id}")

    assert f'href="/desk/outbox/{message_id}"' in outbox.text
    assert detail.status_code == 200
    assert "webhook answered 503" in detail.text
    assert "2026-03-01 11:55:00" in detail.text
    assert "2026-03-01 12:00:00" in detail.text
    assert client.get(f"/desk/outbox/{uuid.uuid4()}").status_code == 404


def test_creating_and_revoking_a_key_is_audited_without_the_secret(
    engine: Engine,
) -> None:
    created = create_key(
        SqlApiKeyStore(engine), "billing system", frozenset({Scope.READ}), "ada", NOW
    )
    revoke_key(SqlApiKeyStore(engine), created.record.prefix, "ada", NOW)

    with Session(engine) as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["api key created", "api key revoked"]
    assert all(e.subject == f"api key {created.record.prefix}" for e in entries)
    assert all(e.actor == "ada" for e in entries)
    secret = created.token.rsplit("_", 1)[1]
    assert all(secret not in str(e.details) for e in entries)
