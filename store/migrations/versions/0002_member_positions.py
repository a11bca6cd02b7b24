"""Members' live positions, for dispatch by walking distance.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 19:02:34.229986
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_positions",
        sa.Column("member_id", sa.String(length=20), nullable=False),
        sa.Column("squad_id", sa.String(length=20), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
        ),
        sa.PrimaryKeyConstraint("member_id"),
    )
    with op.batch_alter_table("member_positions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_positions_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_member_positions_squad_id"), ["squad_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("member_positions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_positions_squad_id"))
        batch_op.drop_index(batch_op.f("ix_member_positions_at"))

    op.drop_table("member_positions")
