"""billing: the period and discount of each invoice, changes of contract terms

Revision ID: 0002_billing
Revises: 0001

A branch of its own off the first revision. On SQLite the new columns are
added in place and the uniqueness of (contract, period start) is a unique
index: rebuilding `invoices` would fail on any book with payments or actions,
since foreign keys stay enforced inside the migration's transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import duecourse.adapters.db.types

revision = "0002_billing"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("period_end", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "discount_percent",
                duecourse.adapters.db.types.Amount(length=40),
                nullable=True,
            )
        )
        batch_op.create_index(
            "uq_invoices_period", ["contract_id", "period_start"], unique=True
        )

    op.create_table(
        "contract_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column(
            "changed_at",
            duecourse.adapters.db.types.UtcDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("applies_from", sa.Date(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_contract_changes_contract_id_contracts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_changes")),
    )
    with op.batch_alter_table("contract_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_changes_contract_id"), ["contract_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("contract_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_changes_contract_id"))
    op.drop_table("contract_changes")

    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("uq_invoices_period")
        batch_op.drop_column("discount_percent")
        batch_op.drop_column("period_end")
        batch_op.drop_column("period_start")
