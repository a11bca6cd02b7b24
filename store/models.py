"""Tables: community layers, Party members (private) and the category catalogue."""

from __future__ import annotations

from typing import Any

import shapely
from sqlalchemy import JSON, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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
    name: Mapped[str | None] = mapped_column(String(200))
    props: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryColumn())
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)


class Member(Base):
    """A pseudonymous Party member: personal data, never in public answers."""

    __tablename__ = "members"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    squad_id: Mapped[str | None] = mapped_column(String(20), index=True)
    post: Mapped[str | None] = mapped_column(String(80))


class Category(Base):
    """An issue category of the catalogue, with its time limit."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(80))
    klass: Mapped[str] = mapped_column("class", String(20))
    time_limit_hours: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str | None] = mapped_column(String(20))
