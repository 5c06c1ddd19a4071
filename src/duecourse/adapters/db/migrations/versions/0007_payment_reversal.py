"""payment reversal: when the bank took a payment back

Revision ID: 0007_reversal
Revises: 0001

A branch of its own off the first revision: it only adds a nullable column to
`payments`, so it never conflicts with the other parts of the product.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import duecourse.adapters.db.types

revision = "0007_reversal"
down_revision = "0001"
branch_labels = None
depends_on = None

_STAMP = duecourse.adapters.db.types.UtcDateTime


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reversed_at", _STAMP(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("reversed_at")
