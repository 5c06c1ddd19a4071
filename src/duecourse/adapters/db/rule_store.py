"""Rule versions and the audit log on SQLAlchemy."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from duecourse.adapters.db.models import AuditEntry, Invoice, RuleVersion
from duecourse.domain.states import InvoiceStatus
from duecourse.services.ports import RuleRecord


class SqlRuleStore:
    def __init__(self, engine: Engine) -> None:
        self.session = Session(engine)

    def versions_of(self, name: str) -> list[RuleRecord]:
        rows = self.session.scalars(
            select(RuleVersion)
            .where(RuleVersion.name == name)
            .order_by(RuleVersion.version)
        )
        return [_record(r) for r in rows]

    def all_versions(self) -> list[RuleRecord]:
        rows = self.session.scalars(
            select(RuleVersion).order_by(RuleVersion.name, RuleVersion.version)
        )
        return [_record(r) for r in rows]

    def add_version(
        self, name: str, source: str, digest: str, actor: str, now: datetime
    ) -> RuleRecord:
        latest = self.session.scalar(
            select(func.max(RuleVersion.version)).where(RuleVersion.name == name)
        )
        self.session.execute(
            update(RuleVersion).where(RuleVersion.name == name).values(active=False)
        )
        version = RuleVersion(
            name=name,
            version=(latest or 0) + 1,
            source=source,
            digest=digest,
            active=True,
            created_at=now,
            created_by=actor,
        )
        self.session.add(version)
        self.session.flush()
        return _record(version)

    def move_invoices(self, from_version: int, to_version: int) -> int:
        result = self.session.execute(
            update(Invoice)
            .where(
                Invoice.rule_version_id == from_version,
                Invoice.status == InvoiceStatus.OPEN.value,
            )
            .values(rule_version_id=to_version, next_action_on=func.current_date())
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def audit(
        self,
        actor: str,
        action: str,
        subject: str,
        details: Mapping[str, Any],
        now: datetime,
    ) -> None:
        self.session.add(
            AuditEntry(
                at=now, actor=actor, action=action, subject=subject, details=details
            )
        )

    def commit(self) -> None:
        self.session.commit()

    def close(self) -> None:
        self.session.close()


def _record(row: RuleVersion) -> RuleRecord:
    return RuleRecord(row.id, row.name, row.version, row.active, row.source)
