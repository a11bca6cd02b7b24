"""A community may override entries of the shared catalogue.

One row per (community, category): the values it changes (NULL inherits the
shared one) and whether the category is offered there at all.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "category_overrides",
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=40), nullable=True),
        sa.Column("name_en", sa.String(length=80), nullable=True),
        sa.Column("time_limit", sa.String(length=10), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.Column("offered", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(["code"], ["categories.code"]),
        sa.PrimaryKeyConstraint("community_code", "code"),
    )


def downgrade() -> None:
    op.drop_table("category_overrides")
