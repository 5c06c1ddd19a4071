"""Logins, sessions, CSRF and roles in the web app."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from duecourse.adapters.db.negotiation_tables import User
from tests.support.web import (
    PASSWORD,
    TestClient,
    add_user,
    csrf_of,
    log_in,
    web_app,
)


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> TestClient:
    return TestClient(web_app(engine, tmp_path))


def test_a_user_logs_in_and_the_desk_says_who_they_are(
    engine: Engine, client: TestClient
) -> None:
    add_user(engine, "ana@example.com", "collector")

    response = log_in(client, "Ana@Example.com ")

    assert response.status_code == 303
    assert response.headers["location"] == "/desk"
    desk = client.get("/desk")
    assert desk.status_code == 200
    assert "ana@example.com" in desk.text
    assert "collector" in desk.text


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    engine: Engine, client: TestClient
) -> None:
    add_user(engine, "ana@example.com", "collector")

    wrong_password = log_in(client, "ana@example.com", "not the password")
    unknown_email = log_in(client, "nobody@example.com")

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert "Wrong email or password." in wrong_password.text
    assert "Wrong email or password." in unknown_email.text
    assert client.get("/desk", follow_redirects=False).status_code == 303


def test_inactive_users_and_users_without_a_password_cannot_log_in(
    engine: Engine, client: TestClient
) -> None:
    add_user(engine, "gone@example.com", "admin", active=False)
    add_user(engine, "new@example.com", "admin", password=None)

    assert log_in(client, "gone@example.com").status_code == 401
    assert log_in(client, "new@example.com", "").status_code != 303


def test_logins_are_refused_after_five_failures_even_with_the_right_password(
    engine: Engine, client: TestClient
) -> None:
    add_user(engine, "ana@example.com", "collector")

    failures = [
        log_in(client, "ana@example.com", "wrong!").status_code for _ in range(5)
    ]
    refused = log_in(client, "ana@example.com")

    assert failures == [401] * 5
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "too many failed logins" in refused.text


def test_a_login_form_without_its_csrf_token_is_refused(
    engine: Engine, client: TestClient
) -> None:
    add_user(engine, "ana@example.com", "collector")
    csrf_of(client)

    response = client.post(
        "/login",
        data={"email": "ana@example.com", "password": PASSWORD},
        follow_redirects=False,
    )

    assert response.status_code == 403
    assert "form expired" in response.text


def test_an_action_with_another_sessions_csrf_token_is_refused(
    engine: Engine, tmp_path: Path, client: TestClient
) -> None:
    add_user(engine, "ana@example.com", "collector")
    log_in(client, "ana@example.com")
    other = TestClient(web_app(engine, tmp_path))

    response = client.post(
        "/logout", data={"csrf_token": csrf_of(other)}, follow_redirects=False
    )
    without = client.post("/logout", data={}, follow_redirects=False)

    assert response.status_code == 403
    assert without.status_code == 403
    assert client.get("/desk").status_code == 200


def test_logging_out_ends_the_session(engine: Engine, client: TestClient) -> None:
    add_user(engine, "ana@example.com", "viewer")
    log_in(client, "ana@example.com")

    token = csrf_of(client, "/desk")
    response = client.post(
        "/logout", data={"csrf_token": token}, follow_redirects=False
    )

    assert response.status_code == 303
    assert client.get("/desk", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("role", "integration_status"),
    [("viewer", 403), ("collector", 403), ("manager", 403), ("admin", 200)],
)
def test_every_role_reaches_the_desk_and_only_admins_the_admin_page(
    engine: Engine, client: TestClient, role: str, integration_status: int
) -> None:
    add_user(engine, f"{role}@example.com", role)
    log_in(client, f"{role}@example.com")

    assert client.get("/desk").status_code == 200
    assert client.get("/desk/integration").status_code == integration_status


def test_pages_need_a_login_and_send_back_to_the_page_after_it(
    client: TestClient,
) -> None:
    response = client.get("/desk/integration", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/desk/integration"


def test_a_changed_password_ends_the_sessions_signed_before(
    engine: Engine, client: TestClient
) -> None:
    user_id = add_user(engine, "ana@example.com", "viewer")
    log_in(client, "ana@example.com")
    with Session(engine) as session:
        user = session.scalars(select(User).where(User.id == user_id)).one()
        user.password_hash = "$argon2id$v=19$m=1024,t=1,p=1$changed$changed"
        session.commit()

    assert client.get("/desk", follow_redirects=False).status_code == 303


def test_the_session_cookie_is_httponly_samesite_and_secure_over_https(
    engine: Engine, tmp_path: Path
) -> None:
    add_user(engine, "ana@example.com", "viewer")
    https = TestClient(
        web_app(engine, tmp_path, base_url="https://desk.example.com"),
        base_url="https://testserver",
    )
    plain = TestClient(web_app(engine, tmp_path))

    secure_cookie = log_in(https, "ana@example.com").headers["set-cookie"]
    plain_cookie = log_in(plain, "ana@example.com").headers["set-cookie"]

    assert "HttpOnly" in secure_cookie
    assert "SameSite=lax" in secure_cookie
    assert "Secure" in secure_cookie
    assert "HttpOnly" in plain_cookie
    assert "Secure" not in plain_cookie


def test_a_next_path_elsewhere_is_not_followed(
    engine: Engine, client: TestClient
) -> None:
    add_user(engine, "ana@example.com", "viewer")
    token = csrf_of(client)

    response = client.post(
        "/login",
        data={
            "email": "ana@example.com",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example.com/",
        },
        follow_redirects=False,
    )

    assert response.headers["location"] == "/desk"
