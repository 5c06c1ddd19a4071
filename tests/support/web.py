"""The web app over a test database, and desk users with known passwords."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

from argon2 import PasswordHasher
from fastapi import FastAPI
from httpx import Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

from duecourse.adapters.db.models import Notice
from duecourse.adapters.db.negotiation_tables import User
from duecourse.bootstrap import Container
from duecourse.entrypoints.web.app import create_app
from duecourse.settings import load_settings

with warnings.catch_warnings():
    # Starlette asks for its `httpx2` fork; the installed httpx works the same.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

__all__ = ["TestClient", "add_notice", "add_user", "csrf_of", "log_in", "web_app"]

SECRET = "test-secret"
PASSWORD = "correct horse battery"
AS_OF = date(2026, 3, 1)
NOW = datetime.fromisoformat("2026-03-01T12:00:00+00:00")

# Cheap hashes keep the tests fast; a login rehashes them with the defaults.
_FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def container(
    engine: Engine, folder: Path, base_url: str = "http://testserver"
) -> Container:
    """A container over the test's own engine, which the test disposes of."""
    environ = {
        "DUECOURSE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "DUECOURSE_SECRET_KEY": SECRET,
        "DUECOURSE_BASE_URL": base_url,
    }
    built = Container(load_settings(environ, folder))
    # Seed the cached property: no second engine, no second migration.
    vars(built)["engine"] = engine
    return built


def web_app(
    engine: Engine,
    folder: Path,
    *,
    base_url: str = "http://testserver",
    today: date = AS_OF,
    environ: Mapping[str, str] | None = None,
) -> FastAPI:
    return create_app(
        container(engine, folder, base_url),
        clock_today=lambda: today,
        clock_now=lambda: NOW,
        environ=environ or {},
    )


def add_user(
    engine: Engine,
    email: str,
    role: str,
    password: str | None = PASSWORD,
    active: bool = True,
) -> int:
    with Session(engine) as session:
        user = User(
            email=email,
            name=email.split("@")[0].title(),
            role=role,
            password_hash=_FAST.hash(password) if password else None,
            active=active,
            created_at=NOW,
        )
        session.add(user)
        session.commit()
        return user.id


def add_notice(engine: Engine, client_id: int, template: str) -> int:
    with Session(engine) as session:
        notice = Notice(
            client_id=client_id,
            stage_key="pending_notice",
            template=template,
            active=True,
            created_on=AS_OF,
        )
        session.add(notice)
        session.commit()
        return notice.id


def csrf_of(client: TestClient, path: str = "/login") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, f"no CSRF token in {path}"
    return found.group(1)


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> Response:
    token = csrf_of(client)
    response: Response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    return response
