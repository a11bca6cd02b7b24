"""Pages of features for OGC API – Features: a layer's or the cases', in a stable order.

Both sources are read the same way, in SQL on either backend: conditions the caller
built (``where``), a lon/lat box (first the indexed test: GiST on PostGIS, the
bounding-box columns on SQLite; then the exact one, :func:`store.cql.spatial_sql`),
then one page by ``offset``/``limit`` in the order of the features' ids, so that
paging through ``next`` links returns each feature exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from store.cql import spatial_sql
from store.issues import BBox, in_area
from store.models import Issue, LayerFeature


@dataclass(frozen=True)
class FeatureQuery:
    """What a page of features must meet, and which page."""

    bbox: BBox | None = None  # lon/lat, tested in SQL (a superset when ``shape`` is set)
    shape: shapely.Geometry | None = None  # the exact area a bbox in another CRS covers
    where: Sequence[ColumnElement[bool]] = ()
    limit: int = 10
    offset: int = 0
    area: str = ""  # cases only: the area a caller may see ("" everywhere)
    reported: tuple[datetime | None, datetime | None] | None = None  # cases: [start, end]


def is_postgis(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _in_box(
    session: Session,
    geom: Any,
    columns: tuple[Any, Any, Any, Any],
    q: FeatureQuery,
    points: bool = False,
) -> list[ColumnElement[bool]]:
    """The features meeting ``q``'s box (and its exact shape, when it has one); for
    ``points``, whose bounds are the point, the bounds alone answer a lon/lat box."""
    assert q.bbox is not None
    xmin, ymin, xmax, ymax = q.bbox
    postgis = is_postgis(session)
    if postgis:
        env = func.ST_MakeEnvelope(xmin, ymin, xmax, ymax, 4326)
        tests = [geom.op("&&", is_comparison=True)(env)]
    else:
        min_lon, min_lat, max_lon, max_lat = columns
        tests = [min_lon <= xmax, max_lon >= xmin, min_lat <= ymax, max_lat >= ymin]
    exact = q.shape if q.shape is not None else shapely.box(*q.bbox)
    if q.shape is not None or postgis or not points:
        tests.append(spatial_sql(postgis, "INTERSECTS", geom, exact))
    return tests


def _page(session: Session, query: Select[Any], key: Any, q: FeatureQuery) -> tuple[list[Any], int]:
    """One page of ``query`` in ``key`` order and how many rows match in all."""
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(key).offset(q.offset).limit(q.limit)).all()
    return list(rows), int(total)


def layer_page(session: Session, layer: str, q: FeatureQuery) -> tuple[list[Any], int]:
    """Rows (``key``, ``props``, ``geom``, ``community_code``) of one page of ``layer``."""
    query = select(
        LayerFeature.key, LayerFeature.props, LayerFeature.geom, LayerFeature.community_code
    ).where(LayerFeature.layer == layer, *q.where)
    if q.bbox is not None:
        columns = (
            LayerFeature.min_lon,
            LayerFeature.min_lat,
            LayerFeature.max_lon,
            LayerFeature.max_lat,
        )
        query = query.where(*_in_box(session, LayerFeature.geom, columns, q))
    return _page(session, query, LayerFeature.key, q)


def layer_feature(session: Session, layer: str, key: str) -> Any | None:
    """The row of feature ``key`` of ``layer``, or None."""
    query = select(
        LayerFeature.key, LayerFeature.props, LayerFeature.geom, LayerFeature.community_code
    ).where(LayerFeature.layer == layer, LayerFeature.key == key)
    return session.execute(query).first()


def layer_extent(session: Session, layer: str) -> tuple[BBox | None, int]:
    """The lon/lat box of every feature of ``layer`` and how many there are."""
    row = session.execute(
        select(
            func.min(LayerFeature.min_lon),
            func.min(LayerFeature.min_lat),
            func.max(LayerFeature.max_lon),
            func.max(LayerFeature.max_lat),
            func.count(),
        ).where(LayerFeature.layer == layer)
    ).one()
    if not row[4]:
        return None, 0
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3])), int(row[4])


def layer_sample(session: Session, layer: str) -> dict[str, Any] | None:
    """The properties of ``layer``'s first feature (its columns and their types)."""
    return session.scalar(
        select(LayerFeature.props).where(LayerFeature.layer == layer).order_by(LayerFeature.key)
    )


def case_page(session: Session, q: FeatureQuery) -> tuple[list[Issue], int]:
    """One page of cases (ordered by id) and how many match in all."""
    query = select(Issue).where(*q.where)
    if q.area:
        query = query.where(in_area(q.area))
    if q.reported is not None:
        start, end = q.reported
        if start is not None:
            query = query.where(Issue.reported_at >= start)
        if end is not None:
            query = query.where(Issue.reported_at <= end)
    if q.bbox is not None:
        columns = (Issue.lon, Issue.lat, Issue.lon, Issue.lat)
        query = query.where(*_in_box(session, Issue.geom, columns, q, points=True))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(query.order_by(Issue.id).offset(q.offset).limit(q.limit))
    return list(page), int(total)


def case_extent(session: Session, area: str = "") -> tuple[BBox | None, tuple[Any, Any], int]:
    """The lon/lat box of the cases, their first and last report time, and how many."""
    query = select(
        func.min(Issue.lon),
        func.min(Issue.lat),
        func.max(Issue.lon),
        func.max(Issue.lat),
        func.min(Issue.reported_at),
        func.max(Issue.reported_at),
        func.count(),
    )
    if area:
        query = query.where(in_area(area))
    row = session.execute(query).one()
    if not row[6]:
        return None, (None, None), 0
    box = (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
    return box, (row[4], row[5]), int(row[6])


def community_outlines(session: Session) -> list[shapely.Geometry]:
    """Every loaded community's outline (to pick the metric CRS of each)."""
    return list(session.scalars(select(LayerFeature.geom).where(LayerFeature.layer == "community")))
