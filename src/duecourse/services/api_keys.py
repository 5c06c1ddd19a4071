"""API keys: created from the desk or the CLI, shown once, stored as a hash.

A key reads `dc_<prefix>_<secret>`. The prefix finds the stored key; only
the SHA-256 of the secret is stored, which is enough for a random 32-byte
secret (a password hash's slowness guards guessable secrets, not these).
A key carries scopes: `read` lists and reads, `write` also creates, `admin`
also applies collection rules. A revoked key is refused from then on.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from duecourse.domain.errors import DuecourseError, InvalidField, NotFound

log = logging.getLogger(__name__)

TOKEN_START = "dc_"


class Scope(StrEnum):
    """What a key may do; each scope includes the ones before it."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


RANK = {Scope.READ: 0, Scope.WRITE: 1, Scope.ADMIN: 2}


class NotAuthenticated(DuecourseError):
    """The request carries no API key, or one that is unknown or revoked."""


class ScopeMissing(DuecourseError):
    """The API key is valid but lacks the scope the request needs."""


@dataclass(frozen=True)
class ApiKeyRecord:
    id: int
    name: str
    prefix: str
    secret_hash: str
    scopes: frozenset[Scope]
    created_by: str
    created_at: datetime
    revoked_at: datetime | None

    def allows(self, needed: Scope) -> bool:
        return any(RANK[scope] >= RANK[needed] for scope in self.scopes)


@dataclass(frozen=True)
class CreatedKey:
    """A new key; `token` is shown once and never stored."""

    record: ApiKeyRecord
    token: str


class ApiKeyStore(Protocol):
    def add_key(
        self,
        name: str,
        prefix: str,
        secret_hash: str,
        scopes: frozenset[Scope],
        actor: str,
        now: datetime,
    ) -> ApiKeyRecord: ...

    def key_by_prefix(self, prefix: str) -> ApiKeyRecord | None: ...

    def all_keys(self) -> list[ApiKeyRecord]: ...

    def revoke_key(self, prefix: str, actor: str, now: datetime) -> bool:
        """Mark the key revoked; False when no unrevoked key has the prefix."""
        ...


def parse_scopes(names: Iterable[str]) -> frozenset[Scope]:
    scopes = set()
    for name in names:
        try:
            scopes.add(Scope(name.strip().lower()))
        except ValueError:
            raise InvalidField(
                "scope", f"{name!r} is not a scope", "use read, write or admin"
            ) from None
    if not scopes:
        raise InvalidField("scope", "no scope given", "give at least --scope read")
    return frozenset(scopes)


def create_key(
    store: ApiKeyStore, name: str, scopes: frozenset[Scope], actor: str, now: datetime
) -> CreatedKey:
    """Store a new key and return its token, which is not kept anywhere."""
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidField("name", "must be 1 to 120 characters", "name the system")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)

    record = store.add_key(name, prefix, _hash(secret), scopes, actor, now)
    log.info("api key created key_id=%d prefix=%s", record.id, prefix)
    return CreatedKey(record, f"{TOKEN_START}{prefix}_{secret}")


def authenticate(store: ApiKeyStore, token: str | None) -> ApiKeyRecord:
    """The unrevoked key a bearer token names; `NotAuthenticated` otherwise."""
    if not token or not token.startswith(TOKEN_START):
        raise NotAuthenticated(
            "send an API key as `Authorization: Bearer dc_...`; "
            "create one with `duecourse api-keys create`"
        )
    prefix, _, secret = token.removeprefix(TOKEN_START).partition("_")
    record = store.key_by_prefix(prefix) if prefix and secret else None

    if record is None or not hmac.compare_digest(record.secret_hash, _hash(secret)):
        raise NotAuthenticated("the API key is not known; check it was copied whole")
    if record.revoked_at is not None:
        raise NotAuthenticated(f"the API key {prefix} was revoked; create a new one")
    return record


def require_scope(record: ApiKeyRecord, needed: Scope) -> None:
    if not record.allows(needed):
        held = ", ".join(sorted(record.scopes))
        raise ScopeMissing(
            f"this needs the {needed} scope; the key {record.prefix} has {held}"
        )


def revoke_key(store: ApiKeyStore, prefix: str, actor: str, now: datetime) -> None:
    if not store.revoke_key(prefix.removeprefix(TOKEN_START), actor, now):
        raise NotFound(f"no active API key {prefix}; `duecourse api-keys list`")
    log.info("api key revoked prefix=%s", prefix)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
