"""The collectors' desk: roles, calls, the client timeline, rules, outbox, approvals."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from httpx import Response
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from duecourse.adapters.db.account_store import SqlAccountStore
from duecourse.adapters.db.desk_tables import CallOutcomeRecord
from duecourse.adapters.db.models import (
    AuditEntry,
    CallTask,
    Invoice,
    Message,
    Payment,
    RuleVersion,
)
from duecourse.adapters.db.negotiation_tables import Agreement
from duecourse.adapters.db.run_store import SqlRunStore
from duecourse.services.run import run_collection
from tests.integration.book import (
    DEFAULT_RULE,
    add_client,
    add_invoice,
    apply_default_rule,
    composer,
)
from tests.support.web import AS_OF, NOW, TestClient, add_user, csrf_of, log_in, web_app

ROLES = ("viewer", "collector", "manager", "admin")
RANK = {role: rank for rank, role in enumerate(ROLES)}


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> TestClient:
    return TestClient(web_app(engine, tmp_path))


def book(engine: Engine) -> tuple[int, int, int]:
    """Acme owes one invoice 28 days late and has an open call task."""
    apply_default_rule(engine)
    client_id = add_client(engine, "acme")
    invoice_id = add_invoice(engine, client_id, "A-1", date(2026, 2, 1), "1500.00")
    with Session(engine) as session:
        task = CallTask(
            client_id=client_id,
            stage_key="call",
            script="overdue_call",
            reason="1 invoice(s) overdue since 2026-02-01",
            balance=Decimal("1500.00"),
            currency="BRL",
            status="open",
            created_on=AS_OF,
        )
        session.add(task)
        session.commit()
        return client_id, invoice_id, task.id


def add_message(
    engine: Engine, client_id: int, status: str, at: datetime, error: str | None = None
) -> str:
    message_id = str(uuid.uuid4())
    with Session(engine) as session:
        session.add(
            Message(
                id=message_id,
                client_id=client_id,
                channel="email",
                template="overdue",
                language="pt_BR",
                recipients="finance@example.com.br",
                context={},
                run_on=at.date(),
                status=status,
                attempts=6 if status == "dead" else 1,
                next_attempt_at=at,
                claimed_until=None,
                last_error=error,
                sent_at=at if status == "sent" else None,
                created_at=at,
            )
        )
        session.commit()
    return message_id


def signed_in(client: TestClient, engine: Engine, role: str) -> int:
    user_id = add_user(engine, f"{role}@example.com", role)
    assert log_in(client, f"{role}@example.com").status_code == 303
    return user_id


def post(client: TestClient, path: str, data: dict[str, str], page: str) -> Response:
    response: Response = client.post(
        path, data={**data, "csrf_token": csrf_of(client, page)}, follow_redirects=False
    )
    return response


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_each_role_or_refuses_it(
    engine: Engine, client: TestClient, role: str
) -> None:
    _, _, task_id = book(engine)
    pages = {
        "/desk/today": "viewer",
        "/desk/worklist": "collector",
        f"/desk/calls/{task_id}": "collector",
        "/desk/clients/acme": "collector",
        "/desk/rules": "manager",
        "/desk/outbox": "manager",
        "/desk/approvals": "manager",
        "/desk/audit": "manager",
    }
    signed_in(client, engine, role)

    statuses = {path: client.get(path).status_code for path in pages}

    expected = {
        path: 200 if RANK[role] >= RANK[needed] else 403
        for path, needed in pages.items()
    }
    assert statuses == expected


def test_a_viewer_cannot_take_a_task_nor_retry_a_message(
    engine: Engine, client: TestClient
) -> None:
    client_id, _, task_id = book(engine)
    dead = add_message(engine, client_id, "dead", NOW, "550 no such user")
    signed_in(client, engine, "viewer")
    token = csrf_of(client, "/desk/today")

    take = client.post(f"/desk/worklist/{task_id}/take", data={"csrf_token": token})
    retry = client.post(f"/desk/outbox/{dead}/retry", data={"csrf_token": token})

    assert take.status_code == retry.status_code == 403


def test_a_collector_works_a_call_to_a_promise_and_the_run_pauses(
    engine: Engine, client: TestClient
) -> None:
    client_id, invoice_id, task_id = book(engine)
    add_message(engine, client_id, "dead", NOW, "550 mailbox unavailable")
    signed_in(client, engine, "collector")

    worklist = client.get("/desk/worklist").text
    taken = post(client, f"/desk/worklist/{task_id}/take", {}, "/desk/worklist")
    screen = client.get(f"/desk/calls/{task_id}")
    ended = client.post(
        f"/desk/calls/{task_id}",
        data={
            "outcome": "promise",
            "amount": "1500.00",
            "promised_on": "2026-03-10",
            "note": "pays on the 10th",
            "csrf_token": csrf_of(client, f"/desk/calls/{task_id}"),
        },
    )

    assert "bounced email" in worklist
    assert taken.status_code == 303
    assert "Ligação: pagamento em atraso, Client acme" in screen.text
    assert "A-1" in screen.text
    assert ended.status_code == 200
    assert "paused until 2026-03-13" in ended.text
    with Session(engine) as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None and invoice.paused_until == date(2026, 3, 13)
        assert session.get(CallTask, task_id).status == "done"  # type: ignore[union-attr]
        outcome = session.scalars(select(CallOutcomeRecord)).one()
        assert outcome.promise_id is not None
    summary = run_collection(
        lambda: SqlRunStore(engine),
        composer(),
        date(2026, 3, 6),
        datetime(2026, 3, 6, 12, tzinfo=UTC),
    )
    assert summary.messages == 0
    assert summary.call_tasks == 0


def test_a_call_without_the_fields_its_outcome_needs_stores_nothing(
    engine: Engine, client: TestClient
) -> None:
    _, _, task_id = book(engine)
    signed_in(client, engine, "collector")

    response = post(
        client, f"/desk/calls/{task_id}", {"outcome": "promise"}, "/desk/worklist"
    )

    assert response.status_code == 422
    assert "amount: is empty" in response.text
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(CallOutcomeRecord)) == 0


def test_the_client_timeline_lists_every_kind_of_contact_in_time_order(
    engine: Engine, client: TestClient
) -> None:
    client_id, _, task_id = book(engine)
    add_message(engine, client_id, "sent", datetime(2026, 2, 10, 9, tzinfo=UTC))
    with Session(engine) as session:
        session.add(
            Payment(
                client_id=client_id,
                reference="PIX-1",
                amount=Decimal("100.00"),
                currency="BRL",
                received_on=date(2026, 2, 20),
                method="pix",
                unallocated=Decimal("100.00"),
                created_at=NOW,
            )
        )
        session.commit()
    SqlAccountStore(engine).record_visit(
        client_id, "portal visited", datetime(2026, 3, 1, 18, tzinfo=UTC)
    )
    signed_in(client, engine, "collector")
    post(
        client,
        f"/desk/calls/{task_id}",
        {"outcome": "no_answer", "note": "voicemail"},
        "/desk/worklist",
    )

    page = client.get("/desk/clients/acme").text
    timeline = page[page.index('class="timeline"') :]

    positions = [
        timeline.index(text)
        for text in (
            "email overdue queued",
            "payment PIX-1",
            "call by Collector: no answer",
            "portal visited",
        )
    ]
    assert positions == sorted(positions)
    assert "email overdue delivered" in timeline


def test_a_bad_rule_file_shows_its_field_errors_and_stores_nothing(
    engine: Engine, client: TestClient
) -> None:
    book(engine)
    signed_in(client, engine, "manager")
    bad = b'name = "default"\n[[stages]]\nkey = "x"\noffset_days = "soon"\n'

    response = client.post(
        "/desk/rules/preview",
        data={"csrf_token": csrf_of(client, "/desk/rules")},
        files={"file": ("bad.toml", bad, "text/plain")},
    )

    assert response.status_code == 422
    assert re.search(r'class="error" data-field="[^"]+"', response.text)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(RuleVersion)) == 1


def test_a_good_rule_is_simulated_then_activated_as_a_new_version(
    engine: Engine, client: TestClient
) -> None:
    book(engine)
    signed_in(client, engine, "manager")
    text = DEFAULT_RULE.read_text().replace(
        'description = "Bill, remind, notify, call, warn, suspend."',
        'description = "A second version."',
    )

    preview = post(client, "/desk/rules/preview", {"text": text}, "/desk/rules")
    with Session(engine) as session:
        stored_after_preview = session.scalar(
            select(func.count()).select_from(RuleVersion)
        )
    activated = post(client, "/desk/rules/activate", {"text": text}, "/desk/rules")

    assert preview.status_code == 200
    assert "Simulation of default" in preview.text
    assert "acme: email" in preview.text
    assert stored_after_preview == 1
    assert activated.status_code == 303
    with Session(engine) as session:
        versions = session.scalars(select(RuleVersion).order_by(RuleVersion.version))
        assert [(v.version, v.active) for v in versions] == [(1, False), (2, True)]


def test_a_dead_message_is_queued_again_with_its_attempts(
    engine: Engine, client: TestClient
) -> None:
    client_id, _, _ = book(engine)
    dead = add_message(engine, client_id, "dead", NOW, "550 no such user")
    signed_in(client, engine, "manager")
    assert "550 no such user" in client.get("/desk/outbox").text

    response = post(client, f"/desk/outbox/{dead}/retry", {}, "/desk/outbox")

    assert response.status_code == 303
    with Session(engine) as session:
        message = session.get(Message, dead)
        assert message is not None
        assert (message.status, message.attempts) == ("pending", 6)
        actions = session.scalars(select(AuditEntry.action)).all()
        assert "message retried" in actions


def test_an_agreement_beyond_the_margin_waits_and_a_manager_approves_it(
    engine: Engine, client: TestClient, tmp_path: Path
) -> None:
    _, _, task_id = book(engine)
    signed_in(client, engine, "collector")

    ended = post(
        client,
        f"/desk/calls/{task_id}",
        {"outcome": "agreement", "instalments": "6", "first_due": "2026-03-10"},
        "/desk/worklist",
    )
    manager = TestClient(web_app(engine, tmp_path))
    signed_in(manager, engine, "manager")
    waiting = manager.get("/desk/approvals").text
    agreement_id = int(re.findall(r"/desk/approvals/(\d+)/approve", waiting)[0])
    approved = post(
        manager, f"/desk/approvals/{agreement_id}/approve", {}, "/desk/approvals"
    )

    assert "waits for a manager" in ended.text
    assert "6 instalments exceed the margin of 3" in waiting
    assert approved.status_code == 303
    with Session(engine) as session:
        agreement = session.get(Agreement, agreement_id)
        assert agreement is not None and agreement.status == "active"
    assert "Nothing waits for approval" in manager.get("/desk/approvals").text


def test_today_shows_the_ageing_and_the_top_calls(
    engine: Engine, client: TestClient
) -> None:
    client_id, _, _ = book(engine)
    add_invoice(engine, client_id, "A-2", date(2026, 3, 20), "200.00")
    signed_in(client, engine, "collector")

    page = client.get("/desk/today").text

    assert "1,500.00" in page
    assert "200.00" in page
    assert "Client acme" in page
