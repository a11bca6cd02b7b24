"""Every row knows its community; a user holds a role within an area.

A database written by the one-community schema holds one community: its
layer features, members and cases get that community's code (the community
layer's key, or else the first 12 digits of its grid codes), and its users
the whole deployment as their area, so nobody loses access.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 04:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TABLES = ("layer_features", "members", "issues")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("community_code", sa.String(length=12), nullable=True))
            batch_op.create_index(
                batch_op.f(f"ix_{table}_community_code"), ["community_code"], unique=False
            )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("area", sa.String(length=15), nullable=False, server_default="")
        )
    _backfill()


def _backfill() -> None:
    """Give the one community's rows its code."""
    bind = op.get_bind()
    code = bind.execute(
        sa.text("SELECT key FROM layer_features WHERE layer = 'community' ORDER BY id LIMIT 1")
    ).scalar()
    if code is None:
        grid = bind.execute(
            sa.text("SELECT key FROM layer_features WHERE layer = 'grids' ORDER BY key LIMIT 1")
        ).scalar()
        code = grid[:12] if grid else None
    if code is None:
        return  # an empty database: nothing to give a code
    for table in _TABLES:
        bind.execute(sa.text(f"UPDATE {table} SET community_code = :code"), {"code": code})


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("area")
    for table in reversed(_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_community_code"))
            batch_op.drop_column("community_code")
