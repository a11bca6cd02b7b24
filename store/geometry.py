"""A geometry column that is PostGIS ``geometry`` on PostgreSQL and WKB elsewhere.

On PostgreSQL the column is GeoAlchemy2's ``Geometry`` (SRID 4326), so spatial
SQL and GiST indexes work; on SQLite, the embedded default, it is a WKB blob
next to indexed bounding-box columns.  Either way Python sees shapely objects.
"""

from __future__ import annotations

from typing import Any

import shapely
from geoalchemy2 import Geometry
from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

SRID = 4326


class GeometryColumn(TypeDecorator[shapely.Geometry]):
    """WGS84 geometry stored natively on PostGIS and as WKB on other databases."""

    impl = LargeBinary
    cache_ok = True
    spatial_index = False  # read by GeoAlchemy2's DDL hooks; the table declares its GiST index

    def load_dialect_impl(self, dialect: Dialect | None) -> TypeEngine[Any]:
        # GeoAlchemy2's DDL hooks probe with no dialect; they need not manage this
        # column (its GiST index is declared on the table).
        if dialect is None:
            return LargeBinary()
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Geometry(srid=SRID, spatial_index=False))
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value: shapely.Geometry | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return from_shape(value, srid=SRID)
        return shapely.to_wkb(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> shapely.Geometry | None:
        if value is None:
            return None
        if isinstance(value, WKBElement):
            return to_shape(value)
        return shapely.from_wkb(bytes(value))
