"""Tables: community layers, Party members (private), categories, users and cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import shapely
from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    literal_column,
    or_,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cases.lifecycle import OPEN_STATUSES, Status
from store.geometry import GeometryColumn


class Base(DeclarativeBase):
    pass


class LayerFeature(Base):
    """One feature of a community layer (grid, district, merchant, street ...).

    ``key`` is the feature's code or id within its layer; ``props`` holds the
    layer's other attributes.  The bounding-box columns let SQLite answer a
    bbox query from an index; PostGIS uses the GiST index on ``geom``.
    """

    __tablename__ = "layer_features"
    __table_args__ = (
        UniqueConstraint("layer", "key", name="uq_layer_features_layer_key"),
        Index("ix_layer_features_bbox", "layer", "min_lon", "min_lat"),
        Index("ix_layer_features_geom", "geom", postgresql_using="gist").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    layer: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(80))
    community_code: Mapped[str | None] = mapped_column(String(12), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    props: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryColumn())
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)


class LayersVersion(Base):
    """How many times the layers were written (loaded, reloaded, unloaded): one row,
    moved on in the writing transaction (:func:`store.layers.layers_changed`), so that
    what is kept of the layers (``service.community.layers_stamp``) sees every change,
    a reload of as many features under the same ids included."""

    __tablename__ = "layers_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=0)


class Member(Base):
    """A pseudonymous Party member: personal data, never in public answers."""

    __tablename__ = "members"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    community_code: Mapped[str | None] = mapped_column(String(12), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    squad_id: Mapped[str | None] = mapped_column(String(20), index=True)
    post: Mapped[str | None] = mapped_column(String(80))


class Category(Base):
    """An issue category of the catalogue: its handling time limit and escalation unit.

    ``time_limit`` is written ``24h``, ``3d`` or ``7wd`` (see cases.deadlines).
    """

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(80))
    klass: Mapped[str] = mapped_column("class", String(20))
    time_limit: Mapped[str] = mapped_column(String(10))
    unit: Mapped[str | None] = mapped_column(String(20))


class CategoryOverride(Base):
    """One community's changes to a shared catalogue entry (``category_overrides.csv``).

    A NULL column inherits the shared value; ``offered`` false withdraws the category
    in that community (its reports are refused there).  The effective catalogue of a
    community is :func:`store.catalogue.categories_for`.
    """

    __tablename__ = "category_overrides"

    community_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    code: Mapped[str] = mapped_column(ForeignKey("categories.code"), primary_key=True)
    name_zh: Mapped[str | None] = mapped_column(String(40))
    name_en: Mapped[str | None] = mapped_column(String(80))
    time_limit: Mapped[str | None] = mapped_column(String(10))
    unit: Mapped[str | None] = mapped_column(String(20))
    offered: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class User(Base):
    """A staff account; only a hash of its bearer token is kept.

    ``member_id`` makes the account a squad member's device: it may post that
    member's live position, and nobody else's.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    member_id: Mapped[str | None] = mapped_column(String(20))
    # the area the role holds in: a district, street or community code ("" = everywhere)
    area: Mapped[str] = mapped_column(String(15), default="", server_default="")


_OPEN_VALUES = sorted(s.value for s in OPEN_STATUSES)


class Issue(Base):
    """A case: a reported problem followed from report to closure.

    Location is WGS84 (``lon``, ``lat``, ``geom``) with the coordinates as given
    (``input_*``).  ``due_at`` is the deadline of the current stage: filing while
    reported, the department's while escalated, handling otherwise.  The
    reporter's name and phone are private.  ``version`` makes concurrent
    updates fail instead of overwriting each other.
    """

    __tablename__ = "issues"
    __table_args__ = (
        # a box on SQLite, and what the lists' counts and the cells read (status and
        # due_at for the overdue rule) without the table's rows
        Index("ix_issues_cells", "lon", "lat", "status", "due_at"),
        # the duplicate search: one category's cases since a moment
        Index("ix_issues_category_reported_at", "category", "reported_at"),
        Index("ix_issues_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
        # cases are written in the order they are reported: a tiny index for periods on
        # PostgreSQL (the b-tree stays: min and max, the OGC extent, need it)
        Index("ix_issues_reported_at_brin", "reported_at", postgresql_using="brin").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    category: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    description: Mapped[str] = mapped_column(Text)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryColumn())
    input_crs: Mapped[str] = mapped_column(String(8))
    input_lon: Mapped[float] = mapped_column(Float)
    input_lat: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str] = mapped_column(String(15), index=True)
    community_code: Mapped[str | None] = mapped_column(String(12), index=True)
    district_code: Mapped[str | None] = mapped_column(String(20), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    reporter_name: Mapped[str | None] = mapped_column(String(80))
    reporter_phone: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), index=True)
    squad_id: Mapped[str | None] = mapped_column(String(20), index=True)
    department: Mapped[str | None] = mapped_column(String(20))
    department_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    department_response: Mapped[str | None] = mapped_column(Text)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("issues.id"))
    reported_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    filed_at: Mapped[datetime | None] = mapped_column(DateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    file_deadline: Mapped[datetime] = mapped_column(DateTime)
    handle_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    due_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    # The overdue rule, its one definition, in its two forms side by side: still open,
    # and past the deadline of its current stage.
    def overdue_at(self, now: datetime) -> bool:
        """Whether this loaded case is overdue at ``now``."""
        return self.status in _OPEN_VALUES and self.due_at < now

    @classmethod
    def overdue_sql(cls, now: datetime) -> ColumnElement[bool]:
        """The same rule as a SQL condition, for queries and counts."""
        return and_(cls.status.in_(_OPEN_VALUES), cls.due_at < now)

    # What counts as due (应结案) for the closure rates of cases.indicators, its one
    # definition: filed, and closed or past its handling deadline by ``horizon`` (the
    # end of the period or now, whichever is earlier: cases.indicators.horizon).
    @classmethod
    def due_sql(cls, horizon: datetime) -> ColumnElement[bool]:
        """Whether a case counts as due by ``horizon``, as a SQL condition."""
        return and_(
            cls.filed_at.is_not(None),
            or_(cls.handle_deadline < horizon, cls.status == Status.CLOSED.value),
        )

    # Closed on time (按期结案), as the database counts it for /stats: closed by the handling
    # deadline worked out when the case was filed (working days of the holiday calendar,
    # cases.deadlines), so that no calendar is needed here. cases.indicators.indicators
    # counts the same from a frame; tests/test_indicators_sql.py holds the two together.
    @classmethod
    def on_time_sql(cls) -> ColumnElement[bool]:
        """Whether a case was closed by its handling deadline, as a SQL condition."""
        return and_(cls.status == Status.CLOSED.value, cls.closed_at <= cls.handle_deadline)


class IssueEvent(Base):
    """One step in a case's history: who moved it, when, from what to what.

    ``override`` is true where a dispatcher sent the case to a squad already at
    capacity, on purpose (the note says why).
    """

    __tablename__ = "issue_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(80))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    override: Mapped[bool | None] = mapped_column(Boolean)
    # an escalation's department and the level it is at (community, street, district)
    department: Mapped[str | None] = mapped_column(String(40))
    level: Mapped[str | None] = mapped_column(String(12))

    @classmethod
    def escalation_sql(cls) -> ColumnElement[bool]:
        """Whether an event is an escalation, as a SQL condition: the status written as a
        literal, as the partial index ``ix_issue_events_escalations`` has it, so that the
        index serves the queries using it (a bound parameter would not match it)."""
        return cls.to_status == literal_column(f"'{Status.ESCALATED.value}'")


# the escalations of each case and their levels (the stats' highest escalation)
Index(
    "ix_issue_events_escalations",
    IssueEvent.issue_id,
    IssueEvent.level,
    sqlite_where=IssueEvent.escalation_sql(),
    postgresql_where=IssueEvent.escalation_sql(),
)


class IssuePhoto(Base):
    """A photo of a case, stored on disk beside its thumbnail."""

    __tablename__ = "issue_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"), index=True)
    path: Mapped[str] = mapped_column(String(200))
    thumb_path: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class MemberPosition(Base):
    """A member's latest position from the phone: personal data, staff eyes only."""

    __tablename__ = "member_positions"

    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)
    squad_id: Mapped[str] = mapped_column(String(20), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
