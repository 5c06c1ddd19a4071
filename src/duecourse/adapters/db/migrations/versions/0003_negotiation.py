"""negotiation: users and margins, promises, agreements, client standing

Revision ID: 0003_negotiation
Revises: 0001

A branch of its own off the first revision: it only creates tables, so it
never conflicts with the other parts of the product.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import duecourse.adapters.db.types

revision = "0003_negotiation"
down_revision = "0001"
branch_labels = None
depends_on = None

_AMOUNT = duecourse.adapters.db.types.Amount
_STAMP = duecourse.adapters.db.types.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("max_discount_percent", _AMOUNT(length=40), nullable=True),
        sa.Column("may_waive_penalties", sa.Boolean(), nullable=True),
        sa.Column("max_instalments", sa.Integer(), nullable=True),
        sa.Column("max_deferral_days", sa.Integer(), nullable=True),
        sa.Column("created_at", _STAMP(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("discount_percent", _AMOUNT(length=40), nullable=False),
        sa.Column("waive_penalties", sa.Boolean(), nullable=False),
        sa.Column("instalment_count", sa.Integer(), nullable=False),
        sa.Column("first_due", sa.Date(), nullable=False),
        sa.Column("interval_days", sa.Integer(), nullable=False),
        sa.Column("new_due_date", sa.Date(), nullable=True),
        sa.Column("on_miss", sa.String(length=12), nullable=False),
        sa.Column("cancel_after_days", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approval_reasons", sa.JSON(), nullable=False),
        sa.Column("covered_balance", _AMOUNT(length=40), nullable=True),
        sa.Column("penalties_included", _AMOUNT(length=40), nullable=True),
        sa.Column("penalties_waived", _AMOUNT(length=40), nullable=True),
        sa.Column("agreed_total", _AMOUNT(length=40), nullable=True),
        sa.Column("created_at", _STAMP(timezone=True), nullable=False),
        sa.Column("decided_at", _STAMP(timezone=True), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("close_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name=op.f("fk_agreements_approved_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_agreements_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["users.id"],
            name=op.f("fk_agreements_requested_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    op.create_index(op.f("ix_agreements_client_id"), "agreements", ["client_id"])
    op.create_index(op.f("ix_agreements_status"), "agreements", ["status"])
    op.create_table(
        "client_standing",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("broken_promises", sa.Integer(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_client_standing_client_id_clients"),
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_standing")),
    )
    op.create_table(
        "promises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("amount", _AMOUNT(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("promised_on", sa.Date(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", _STAMP(timezone=True), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_promises_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promises")),
    )
    op.create_index(op.f("ix_promises_client_id"), "promises", ["client_id"])
    op.create_index(op.f("ix_promises_status"), "promises", ["status"])
    op.create_table(
        "agreement_instalments",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_instalments_agreement_id_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_agreement_instalments_invoice_id_invoices"),
        ),
        sa.PrimaryKeyConstraint(
            "agreement_id", "seq", name=op.f("pk_agreement_instalments")
        ),
        sa.UniqueConstraint(
            "invoice_id", name=op.f("uq_agreement_instalments_invoice_id")
        ),
    )
    op.create_table(
        "agreement_invoices",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("balance_then", _AMOUNT(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_invoices_agreement_id_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_agreement_invoices_invoice_id_invoices"),
        ),
        sa.PrimaryKeyConstraint(
            "agreement_id", "invoice_id", name=op.f("pk_agreement_invoices")
        ),
    )
    op.create_index(
        op.f("ix_agreement_invoices_invoice_id"), "agreement_invoices", ["invoice_id"]
    )
    op.create_table(
        "promise_invoices",
        sa.Column("promise_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("balance_then", _AMOUNT(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_promise_invoices_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["promise_id"],
            ["promises.id"],
            name=op.f("fk_promise_invoices_promise_id_promises"),
        ),
        sa.PrimaryKeyConstraint(
            "promise_id", "invoice_id", name=op.f("pk_promise_invoices")
        ),
    )
    op.create_index(
        op.f("ix_promise_invoices_invoice_id"), "promise_invoices", ["invoice_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_promise_invoices_invoice_id"), "promise_invoices")
    op.drop_table("promise_invoices")
    op.drop_index(op.f("ix_agreement_invoices_invoice_id"), "agreement_invoices")
    op.drop_table("agreement_invoices")
    op.drop_table("agreement_instalments")
    op.drop_index(op.f("ix_promises_status"), "promises")
    op.drop_index(op.f("ix_promises_client_id"), "promises")
    op.drop_table("promises")
    op.drop_table("client_standing")
    op.drop_index(op.f("ix_agreements_status"), "agreements")
    op.drop_index(op.f("ix_agreements_client_id"), "agreements")
    op.drop_table("agreements")
    op.drop_table("users")
