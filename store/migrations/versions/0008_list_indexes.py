"""Indexes for the real list queries at city scale.

- ``ix_issues_cells`` (lon, lat, status, due_at) replaces ``ix_issues_lonlat``: the
  same box on SQLite, and it covers what the counts and the cells read (the overdue
  rule's status and due_at), so neither reads the table's rows.
- ``ix_issues_category_reported_at`` replaces ``ix_issues_category``: the duplicate
  search wants one category's cases since a moment, not the whole category.
- ``ix_issues_reported_at_brin`` (PostgreSQL): cases arrive in the order they are
  reported, so a BRIN index answers periods for a few pages.
- ``ix_issue_events_escalations`` (issue_id, level) WHERE to_status = 'escalated': the
  stats' highest escalation of each case.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ESCALATED = sa.text("to_status = 'escalated'")


def upgrade() -> None:
    op.create_index("ix_issues_cells", "issues", ["lon", "lat", "status", "due_at"])
    op.drop_index("ix_issues_lonlat", table_name="issues")
    op.create_index("ix_issues_category_reported_at", "issues", ["category", "reported_at"])
    op.drop_index("ix_issues_category", table_name="issues")
    op.create_index(
        "ix_issue_events_escalations",
        "issue_events",
        ["issue_id", "level"],
        sqlite_where=ESCALATED,
        postgresql_where=ESCALATED,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_issues_reported_at_brin", "issues", ["reported_at"], postgresql_using="brin"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_issues_reported_at_brin", table_name="issues")
    op.drop_index("ix_issue_events_escalations", table_name="issue_events")
    op.create_index("ix_issues_category", "issues", ["category"])
    op.drop_index("ix_issues_category_reported_at", table_name="issues")
    op.create_index("ix_issues_lonlat", "issues", ["lon", "lat"])
    op.drop_index("ix_issues_cells", table_name="issues")
