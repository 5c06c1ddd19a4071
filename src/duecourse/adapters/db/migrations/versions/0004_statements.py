"""statements: imported bank statements and their entries

Revision ID: 0004_statements
Revises: 0001

A branch of its own off the first revision: it only creates tables, so it
never conflicts with the other parts of the product. `payments` is in 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import duecourse.adapters.db.types

revision = "0004_statements"
down_revision = "0001"
branch_labels = None
depends_on = None

_AMOUNT = duecourse.adapters.db.types.Amount
_STAMP = duecourse.adapters.db.types.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "statement_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("format", sa.String(length=12), nullable=False),
        sa.Column("account", sa.String(length=80), nullable=False),
        sa.Column("statement_id", sa.String(length=200), nullable=False),
        sa.Column("imported_at", _STAMP(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("ignored", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_imports")),
    )
    op.create_table(
        "statement_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=200), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=80), nullable=False),
        sa.Column("booking_date", sa.Date(), nullable=False),
        sa.Column("amount", _AMOUNT(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("counterparty", sa.String(length=200), nullable=True),
        sa.Column("is_reversal", sa.Boolean(), nullable=False),
        sa.Column("return_reason", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("resolved_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["statement_imports.id"],
            name=op.f("fk_statement_entries_import_id_statement_imports"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_statement_entries_payment_id_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_entries")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_statement_entries_entry_id")),
    )
    with op.batch_alter_table("statement_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_statement_entries_import_id"), ["import_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_statement_entries_payment_id"), ["payment_id"], unique=False
        )
        batch_op.create_index(
            "ix_statement_entries_queue", ["status", "booking_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("statement_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_statement_entries_queue")
        batch_op.drop_index(batch_op.f("ix_statement_entries_payment_id"))
        batch_op.drop_index(batch_op.f("ix_statement_entries_import_id"))
    op.drop_table("statement_entries")
    op.drop_table("statement_imports")
