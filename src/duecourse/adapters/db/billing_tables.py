"""The tables of billing: the record of changes to contract terms.

The periods themselves live on `invoices` (period start and end, discount);
see `models.Invoice`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from duecourse.adapters.db.models import Base
from duecourse.adapters.db.types import UtcDateTime


class ContractChange(Base):
    """A change of a contract's terms: who, when, what, and from which period.

    `changes` maps each term changed to its values, like
    {"due_day": {"from": "18", "to": "5"}}.
    """

    __tablename__ = "contract_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    # The start of the first period billed under the new terms.
    applies_from: Mapped[date] = mapped_column(Date)
    changes: Mapped[dict[str, object]] = mapped_column(JSON)
