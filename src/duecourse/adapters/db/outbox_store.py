"""The outbox table as the dispatcher sees it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Row, Table, insert, or_, select, update

from duecourse.adapters.db.models import Client, Message
from duecourse.domain.states import Channel, MessageStatus
from duecourse.services.ports import OutgoingMessage

messages = cast(Table, Message.__table__)


class SqlOutboxStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[OutgoingMessage]:
        ready = or_(
            (Message.status == MessageStatus.PENDING.value)
            & (Message.next_attempt_at <= now),
            (Message.status == MessageStatus.SENDING.value)
            & (Message.claimed_until < now),
        )
        query = select(Message).where(ready).order_by(Message.next_attempt_at)
        query = query.limit(limit)
        if self.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claimed: list[OutgoingMessage] = []
        with self.engine.begin() as connection:
            for row in connection.execute(query).all():
                # The status test makes the claim safe without row locks too:
                # of two dispatchers reading the same row, one updates nothing.
                taken = connection.execute(
                    update(messages)
                    .where(
                        messages.c.id == row.id,
                        messages.c.status == row.status,
                        messages.c.attempts == row.attempts,
                    )
                    .values(
                        status=MessageStatus.SENDING.value, claimed_until=lease_until
                    )
                )
                if taken.rowcount == 1:
                    claimed.append(_outgoing(row))
        return claimed

    def delivered(self, message_id: str, now: datetime) -> None:
        self._set(
            message_id, status=MessageStatus.SENT.value, sent_at=now, last_error=None
        )

    def retry(self, message_id: str, attempts: int, at: datetime, error: str) -> None:
        self._set(
            message_id,
            status=MessageStatus.PENDING.value,
            attempts=attempts,
            next_attempt_at=at,
            claimed_until=None,
            last_error=error[:500],
        )

    def dead(self, message_id: str, attempts: int, error: str) -> None:
        self._set(
            message_id,
            status=MessageStatus.DEAD.value,
            attempts=attempts,
            claimed_until=None,
            last_error=error[:500],
        )

    def _set(self, message_id: str, **values: object) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(messages).where(messages.c.id == message_id).values(**values)
            )


def _outgoing(row: Row[Any]) -> OutgoingMessage:
    return OutgoingMessage(
        id=row.id,
        channel=Channel(row.channel),
        template=row.template,
        language=row.language,
        recipients=tuple(r for r in row.recipients.split(",") if r),
        context=row.context,
        attempts=row.attempts,
    )


def queue_webhook(
    connection: Connection,
    message_id: str,
    client_id: int,
    event: str,
    context: dict[str, object],
    now: datetime,
) -> None:
    """Put a webhook event in the outbox inside the caller's transaction; the
    dispatcher signs and delivers it like any other message."""
    language = connection.execute(
        select(Client.language).where(Client.id == client_id)
    ).scalar_one()
    connection.execute(
        insert(Message),
        {
            "id": message_id,
            "client_id": client_id,
            "channel": Channel.WEBHOOK.value,
            "template": event,
            "language": language,
            "recipients": "",
            "context": context,
            "run_on": now.date(),
            "status": MessageStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
