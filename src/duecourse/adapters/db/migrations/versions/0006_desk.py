"""desk: call task assignments, call outcomes and disputes

Revision ID: 0006_desk
Revises: 0001

A branch of its own off the first revision: it only creates tables. Its
foreign keys name `users`, `promises` and `agreements`, so it depends on the
negotiation branch.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import duecourse.adapters.db.types

revision = "0006_desk"
down_revision = "0001"
branch_labels = None
depends_on = "0003_negotiation"

_AMOUNT = duecourse.adapters.db.types.Amount
_STAMP = duecourse.adapters.db.types.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "call_assignments",
        sa.Column("call_task_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("assigned_at", _STAMP(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_task_id"],
            ["call_tasks.id"],
            name=op.f("fk_call_assignments_call_task_id_call_tasks"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_call_assignments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("call_task_id", name=op.f("pk_call_assignments")),
    )
    op.create_index(
        op.f("ix_call_assignments_user_id"), "call_assignments", ["user_id"]
    )
    op.create_table(
        "call_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_task_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("amount", _AMOUNT(length=40), nullable=True),
        sa.Column("promised_on", sa.Date(), nullable=True),
        sa.Column("promise_id", sa.Integer(), nullable=True),
        sa.Column("agreement_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("recorded_at", _STAMP(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_task_id"],
            ["call_tasks.id"],
            name=op.f("fk_call_outcomes_call_task_id_call_tasks"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_call_outcomes_client_id_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_call_outcomes_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["promise_id"],
            ["promises.id"],
            name=op.f("fk_call_outcomes_promise_id_promises"),
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_call_outcomes_agreement_id_agreements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_outcomes")),
    )
    op.create_index(
        op.f("ix_call_outcomes_call_task_id"), "call_outcomes", ["call_task_id"]
    )
    op.create_index(op.f("ix_call_outcomes_client_id"), "call_outcomes", ["client_id"])
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("call_outcome_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_by", sa.Integer(), nullable=False),
        sa.Column("opened_at", _STAMP(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_disputes_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_disputes_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["call_outcome_id"],
            ["call_outcomes.id"],
            name=op.f("fk_disputes_call_outcome_id_call_outcomes"),
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["users.id"], name=op.f("fk_disputes_opened_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    op.create_index(op.f("ix_disputes_client_id"), "disputes", ["client_id"])
    op.create_index(op.f("ix_disputes_invoice_id"), "disputes", ["invoice_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_disputes_invoice_id"), table_name="disputes")
    op.drop_index(op.f("ix_disputes_client_id"), table_name="disputes")
    op.drop_table("disputes")
    op.drop_index(op.f("ix_call_outcomes_client_id"), table_name="call_outcomes")
    op.drop_index(op.f("ix_call_outcomes_call_task_id"), table_name="call_outcomes")
    op.drop_table("call_outcomes")
    op.drop_index(op.f("ix_call_assignments_user_id"), table_name="call_assignments")
    op.drop_table("call_assignments")
