"""Desk users for signing in, on SQLAlchemy; each call is one short transaction."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Engine, func, insert, select, update

from duecourse.adapters.db.models import AuditEntry
from duecourse.adapters.db.negotiation_tables import User
from duecourse.domain.agreements import parse_role
from duecourse.services.access import DeskUser

_COLUMNS = (User.id, User.email, User.name, User.role, User.active, User.password_hash)


class SqlLoginStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def by_email(self, email: str) -> tuple[DeskUser, str | None] | None:
        query = select(*_COLUMNS).where(func.lower(User.email) == email.lower())
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        return _user(*row), row.password_hash

    def by_id(self, user_id: int) -> DeskUser | None:
        query = select(*_COLUMNS).where(User.id == user_id)
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _user(*row)

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(User)
                .where(User.id == user_id)
                .values(password_hash=password_hash)
            )

    def audit(self, actor: str, action: str, subject: str, now: datetime) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                insert(AuditEntry),
                {
                    "at": now,
                    "actor": actor,
                    "action": action,
                    "subject": subject,
                    "details": {},
                },
            )


def _user(
    user_id: int,
    email: str,
    name: str,
    role: str,
    active: bool,
    password_hash: str | None,
) -> DeskUser:
    # A short digest of the hash: sessions carry it, never the hash itself.
    stamp = hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]
    return DeskUser(user_id, email, name, parse_role(role), active, stamp)
