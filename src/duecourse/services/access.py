"""Who may work the desk: signing in with a password, and setting one.

A user signs in with an email and a password checked against an argon2 hash.
A wrong email and a wrong password look the same to the caller, and take the
same time, so that a login form cannot tell which addresses exist. Inactive
users and users without a password cannot sign in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from duecourse.domain.agreements import Role
from duecourse.domain.errors import InvalidField, NotFound

MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class DeskUser:
    """A user as the web app sees it.

    `stamp` changes whenever the password does, so a session signed before a
    password change stops working.
    """

    id: int
    email: str
    name: str
    role: Role
    active: bool
    stamp: str


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...

    def dummy_hash(self) -> str:
        """A valid hash of nothing anyone knows, verified when no user matches."""
        ...


class UserStore(Protocol):
    """Users by email or id, and their password hashes."""

    def by_email(self, email: str) -> tuple[DeskUser, str | None] | None:
        """The user and their password hash (None when they have none)."""
        ...

    def by_id(self, user_id: int) -> DeskUser | None: ...

    def set_password_hash(self, user_id: int, password_hash: str) -> None: ...

    def audit(self, actor: str, action: str, subject: str, now: datetime) -> None: ...


def sign_in(
    store: UserStore, hasher: PasswordHasher, email: str, password: str
) -> DeskUser | None:
    """The user these credentials open, or None; see the module docstring."""
    found = store.by_email(normalise_email(email))
    user, password_hash = found if found is not None else (None, None)
    if user is None or password_hash is None:
        hasher.verify(hasher.dummy_hash(), password)
        return None

    if not hasher.verify(password_hash, password) or not user.active:
        return None

    if hasher.needs_rehash(password_hash):
        # Stronger parameters since the hash was made: the new hash has a new
        # stamp, which the session must carry.
        store.set_password_hash(user.id, hasher.hash(password))
        return store.by_id(user.id)
    return user


def set_password(
    store: UserStore,
    hasher: PasswordHasher,
    email: str,
    password: str,
    actor: str,
    now: datetime,
) -> DeskUser:
    """Give a user a new password; their open sessions end with it."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidField(
            "password",
            f"has {len(password)} characters",
            f"use at least {MIN_PASSWORD_LENGTH}",
        )
    found = store.by_email(normalise_email(email))
    if found is None:
        raise NotFound(f"no user has the email {email!r}; add it with `users add`")

    user = found[0]
    store.set_password_hash(user.id, hasher.hash(password))
    store.audit(actor, "password set", f"user {user.id}", now)
    return user


def normalise_email(email: str) -> str:
    return email.strip().lower()
