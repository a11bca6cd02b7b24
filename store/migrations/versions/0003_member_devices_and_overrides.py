"""A staff account may be a squad member's device; history marks capacity overrides.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member_id", sa.String(length=20), nullable=True))
    with op.batch_alter_table("issue_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("override", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("issue_events", schema=None) as batch_op:
        batch_op.drop_column("override")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("member_id")
