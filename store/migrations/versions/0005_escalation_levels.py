"""History records where each escalation went: the department and its level.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 04:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issue_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("department", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("level", sa.String(length=12), nullable=True))
    # escalations before levels were to a community's co-building units
    op.execute(
        "UPDATE issue_events SET level = 'community', department = "
        "(SELECT department FROM issues WHERE issues.id = issue_events.issue_id) "
        "WHERE to_status = 'escalated'"
    )


def downgrade() -> None:
    with op.batch_alter_table("issue_events", schema=None) as batch_op:
        batch_op.drop_column("level")
        batch_op.drop_column("department")
