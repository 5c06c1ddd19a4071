"""The JSON API's own records: API keys, idempotency keys, webhook events.

Each call is its own short transaction on the engine, except `SqlEventStore`,
which is one unit of work like the other stores.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from duecourse.adapters.db.api_tables import ApiKey, IdempotencyKey
from duecourse.adapters.db.models import AuditEntry, Client
from duecourse.adapters.db.negotiation_tables import Promise
from duecourse.adapters.db.outbox_store import queue_webhook
from duecourse.services.api_keys import ApiKeyRecord, Scope
from duecourse.services.events import BrokenPromise
from duecourse.services.idempotency import KeyRecord, StoredResponse


class SqlApiKeyStore:
    """Implements `ApiKeyStore`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_key(
        self,
        name: str,
        prefix: str,
        secret_hash: str,
        scopes: frozenset[Scope],
        actor: str,
        now: datetime,
    ) -> ApiKeyRecord:
        values = {
            "name": name,
            "prefix": prefix,
            "secret_hash": secret_hash,
            "scopes": " ".join(sorted(scopes)),
            "created_by": actor[:120],
            "created_at": now,
            "revoked_at": None,
        }
        with self.engine.begin() as connection:
            key_id = connection.execute(
                insert(ApiKey).returning(ApiKey.id), values
            ).scalar_one()
            _audit(
                connection,
                actor,
                "api key created",
                prefix,
                now,
                scopes=values["scopes"],
            )
        return _key(key_id, values)

    def key_by_prefix(self, prefix: str) -> ApiKeyRecord | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(ApiKey).where(ApiKey.prefix == prefix)
            ).first()
        return None if row is None else _key(row.id, row._mapping)

    def all_keys(self) -> list[ApiKeyRecord]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(ApiKey).order_by(ApiKey.id)).all()
        return [_key(row.id, row._mapping) for row in rows]

    def revoke_key(self, prefix: str, actor: str, now: datetime) -> bool:
        with self.engine.begin() as connection:
            done = connection.execute(
                update(ApiKey)
                .where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            if done.rowcount == 1:
                _audit(connection, actor, "api key revoked", prefix, now)
        return done.rowcount == 1


class SqlIdempotencyStore:
    """Implements `IdempotencyStore`; the unique (key, API key) decides races."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def reserve(
        self, api_key_id: int, key: str, request: str, digest: str, now: datetime
    ) -> tuple[KeyRecord, bool]:
        values = {
            "key": key,
            "api_key_id": api_key_id,
            "request": request[:300],
            "request_hash": digest,
            "status": None,
            "body": None,
            "created_at": now,
        }
        try:
            with self.engine.begin() as connection:
                record_id = connection.execute(
                    insert(IdempotencyKey).returning(IdempotencyKey.id), values
                ).scalar_one()
        except IntegrityError:
            with self.engine.connect() as connection:
                row = connection.execute(
                    select(IdempotencyKey).where(
                        IdempotencyKey.api_key_id == api_key_id,
                        IdempotencyKey.key == key,
                    )
                ).one()
            return _key_record(row), False
        return KeyRecord(record_id, request[:300], digest, None, None, now), True

    def take_over(self, record_id: int, stale_before: datetime, now: datetime) -> bool:
        with self.engine.begin() as connection:
            done = connection.execute(
                update(IdempotencyKey)
                .where(
                    IdempotencyKey.id == record_id,
                    IdempotencyKey.status.is_(None),
                    IdempotencyKey.created_at < stale_before,
                )
                .values(created_at=now)
            )
        return done.rowcount == 1

    def finish(self, record_id: int, response: StoredResponse) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.id == record_id)
                .values(status=response.status, body=dict(response.body))
            )

    def release(self, record_id: int) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                delete(IdempotencyKey).where(IdempotencyKey.id == record_id)
            )


class SqlEventStore:
    """Implements `EventStore` on one connection and transaction."""

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.connect()
        self.transaction = self.connection.begin()

    def add_webhook(
        self, client_id: int, event: str, context: dict[str, object], now: datetime
    ) -> str:
        message_id = str(uuid.uuid4())
        queue_webhook(self.connection, message_id, client_id, event, context, now)
        return message_id

    def client_external_id(self, client_id: int) -> str:
        query = select(Client.external_id).where(Client.id == client_id)
        return str(self.connection.execute(query).scalar_one())

    def broken_promises(self, promise_ids: Sequence[int]) -> list[BrokenPromise]:
        if not promise_ids:
            return []
        rows = self.connection.execute(
            select(
                Promise.id,
                Promise.client_id,
                Client.external_id,
                Promise.amount,
                Promise.currency,
                Promise.promised_on,
            )
            .join(Client, Client.id == Promise.client_id)
            .where(Promise.id.in_(promise_ids))
            .order_by(Promise.id)
        )
        return [BrokenPromise(*row) for row in rows]

    def commit(self) -> None:
        self.transaction.commit()
        self.transaction = self.connection.begin()

    def close(self) -> None:
        if self.transaction.is_active:
            self.transaction.rollback()
        self.connection.close()


def _key(key_id: int, values: Any) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=key_id,
        name=values["name"],
        prefix=values["prefix"],
        secret_hash=values["secret_hash"],
        scopes=frozenset(Scope(name) for name in values["scopes"].split()),
        created_by=values["created_by"],
        created_at=values["created_at"],
        revoked_at=values["revoked_at"],
    )


def _key_record(row: Row[Any]) -> KeyRecord:
    return KeyRecord(
        id=row.id,
        request=row.request,
        request_hash=row.request_hash,
        status=row.status,
        body=row.body,
        created_at=row.created_at,
    )


def _audit(
    connection: Connection,
    actor: str,
    action: str,
    prefix: str,
    now: datetime,
    **details: object,
) -> None:
    """Keys are audited in the same transaction as the change; never the secret."""
    connection.execute(
        insert(AuditEntry),
        {
            "at": now,
            "actor": actor[:120],
            "action": action,
            "subject": f"api key {prefix}",
            "details": details,
        },
    )
