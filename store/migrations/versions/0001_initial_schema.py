"""Initial schema: layers, members, categories, users and cases.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 18:24:17.789471
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.geometry

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=40), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("class", sa.String(length=20), nullable=False),
        sa.Column("time_limit", sa.String(length=10), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "layer_features",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("layer", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("props", sa.JSON(), nullable=False),
        sa.Column("geom", store.geometry.GeometryColumn(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("layer", "key", name="uq_layer_features_layer_key"),
    )
    with op.batch_alter_table("layer_features", schema=None) as batch_op:
        batch_op.create_index(
            "ix_layer_features_bbox", ["layer", "min_lon", "min_lat"], unique=False
        )

    op.create_table(
        "members",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("squad_id", sa.String(length=20), nullable=True),
        sa.Column("post", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_members_grid_code"), ["grid_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_squad_id"), ["squad_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "issues",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("geom", store.geometry.GeometryColumn(), nullable=False),
        sa.Column("input_crs", sa.String(length=8), nullable=False),
        sa.Column("input_lon", sa.Float(), nullable=False),
        sa.Column("input_lat", sa.Float(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("district_code", sa.String(length=20), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("reporter_name", sa.String(length=80), nullable=True),
        sa.Column("reporter_phone", sa.String(length=30), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("squad_id", sa.String(length=20), nullable=True),
        sa.Column("department", sa.String(length=20), nullable=True),
        sa.Column("department_deadline", sa.DateTime(), nullable=True),
        sa.Column("department_response", sa.Text(), nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("reported_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("filed_at", sa.DateTime(), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("file_deadline", sa.DateTime(), nullable=False),
        sa.Column("handle_deadline", sa.DateTime(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("rework_count", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category"],
            ["categories.code"],
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of"],
            ["issues.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issues_category"), ["category"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_issues_district_code"), ["district_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_issues_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_issues_grid_code"), ["grid_code"], unique=False)
        batch_op.create_index("ix_issues_lonlat", ["lon", "lat"], unique=False)
        batch_op.create_index(batch_op.f("ix_issues_reported_at"), ["reported_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_issues_squad_id"), ["squad_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_issues_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_issues_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "issue_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=True),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("issue_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issue_events_issue_id"), ["issue_id"], unique=False)

    op.create_table(
        "issue_photos",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("thumb_path", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("issue_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issue_photos_issue_id"), ["issue_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_layer_features_geom", "layer_features", ["geom"], postgresql_using="gist"
        )
        op.create_index("ix_issues_geom", "issues", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    with op.batch_alter_table("issue_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issue_photos_issue_id"))

    op.drop_table("issue_photos")
    with op.batch_alter_table("issue_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issue_events_issue_id"))

    op.drop_table("issue_events")
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issues_updated_at"))
        batch_op.drop_index(batch_op.f("ix_issues_status"))
        batch_op.drop_index(batch_op.f("ix_issues_squad_id"))
        batch_op.drop_index(batch_op.f("ix_issues_reported_at"))
        batch_op.drop_index("ix_issues_lonlat")
        batch_op.drop_index(batch_op.f("ix_issues_grid_code"))
        batch_op.drop_index(batch_op.f("ix_issues_due_at"))
        batch_op.drop_index(batch_op.f("ix_issues_district_code"))
        batch_op.drop_index(batch_op.f("ix_issues_category"))

    op.drop_table("issues")
    op.drop_table("users")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_squad_id"))
        batch_op.drop_index(batch_op.f("ix_members_grid_code"))

    op.drop_table("members")
    with op.batch_alter_table("layer_features", schema=None) as batch_op:
        batch_op.drop_index("ix_layer_features_bbox")

    op.drop_table("layer_features")
    op.drop_table("categories")
