"""A held run store in which a candidate rule is live, for previews.

The candidate is written as the active version of its rule, and the open
invoices following the rule's current version are moved to it, inside the
held transaction: the simulation sees the real book under the candidate,
and `discard` takes it all back.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Engine, func, insert, select, update

from duecourse.adapters.db.models import Invoice, RuleVersion
from duecourse.adapters.db.run_store import SqlRunStore
from duecourse.domain.states import InvoiceStatus


def candidate_store(engine: Engine, name: str, text: str, now: datetime) -> SqlRunStore:
    """A held store where `text` is the active version of rule `name`."""
    store = SqlRunStore(engine, held=True)
    connection = store.connection
    current = connection.execute(
        select(RuleVersion.id).where(RuleVersion.name == name, RuleVersion.active)
    ).scalar_one_or_none()
    latest = connection.execute(
        select(func.max(RuleVersion.version)).where(RuleVersion.name == name)
    ).scalar_one()

    connection.execute(
        update(RuleVersion).where(RuleVersion.name == name).values(active=False)
    )
    candidate = connection.execute(
        insert(RuleVersion).returning(RuleVersion.id),
        {
            "name": name,
            "version": (latest or 0) + 1,
            "source": text,
            "digest": hashlib.sha256(text.encode()).hexdigest(),
            "active": True,
            "created_at": now,
            "created_by": "preview",
        },
    ).scalar_one()
    if current is not None:
        connection.execute(
            update(Invoice)
            .where(
                Invoice.rule_version_id == current,
                Invoice.status == InvoiceStatus.OPEN.value,
            )
            .values(rule_version_id=candidate)
        )
    return store
