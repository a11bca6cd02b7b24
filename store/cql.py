"""CQL2 filters (as pygeofilter parses them) translated to SQL that runs on both backends.

pygeofilter's own SQLAlchemy backend writes every spatial predicate as a PostGIS
function (``ST_Intersects``…), which gridgov's SQLite (geometry as WKB, no
SpatiaLite) cannot run.  So the translation is ours:

- comparisons, ``BETWEEN``, ``IN``, ``IS NULL``, ``AND``/``OR``/``NOT`` become the same
  SQLAlchemy expressions on either backend;
- ``LIKE`` is case-sensitive on both (PostgreSQL's ``LIKE``; on SQLite, whose ``LIKE``
  ignores the case of ASCII letters, the pattern is rewritten as a ``GLOB``);
- a spatial predicate (``S_INTERSECTS``, ``S_WITHIN``… and ``BBOX``) is the PostGIS
  function on PostgreSQL, and on SQLite a function of ours, registered on every
  connection (:func:`register_sqlite_functions`), that runs shapely's predicate on
  the stored WKB: the whole filter stays one SQL condition, so counting and paging
  stay in SQL on both backends.

Geometries arrive in CRS84 (lon/lat); :func:`to_sql` takes a ``move`` to bring a
literal from the filter's CRS.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import shapely
from pygeofilter import ast, values
from shapely.geometry import shape
from sqlalchemy import ColumnElement, and_, func, literal, not_, or_, true

SPATIAL_SQL = "gridgov_spatial"  # the SQLite function: (predicate, stored WKB, WKT) → 0/1
PREDICATES = {
    "INTERSECTS": "ST_Intersects",
    "DISJOINT": "ST_Disjoint",
    "CONTAINS": "ST_Contains",
    "WITHIN": "ST_Within",
    "TOUCHES": "ST_Touches",
    "CROSSES": "ST_Crosses",
    "OVERLAPS": "ST_Overlaps",
    "EQUALS": "ST_Equals",
}
_SHAPELY: dict[str, Callable[[Any, Any], Any]] = {
    "INTERSECTS": shapely.intersects,
    "DISJOINT": shapely.disjoint,
    "CONTAINS": shapely.contains,
    "WITHIN": shapely.within,
    "TOUCHES": shapely.touches,
    "CROSSES": shapely.crosses,
    "OVERLAPS": shapely.overlaps,
    "EQUALS": shapely.equals,
}
GEOMETRY_NAMES = ("geometry", "geom")


class FilterError(ValueError):
    """A filter this service cannot run: an unknown property, an unsupported operator."""


@lru_cache(maxsize=64)
def _literal_geometry(wkt: str) -> shapely.Geometry:
    geom = shapely.from_wkt(wkt)
    shapely.prepare(geom)
    return geom


def _spatial(predicate: str, stored: bytes | None, wkt: str) -> int | None:
    """The SQLite side of a spatial predicate: shapely on the stored WKB."""
    if stored is None:
        return None
    test = _SHAPELY.get(predicate)
    if test is None:
        return None
    return int(bool(test(shapely.from_wkb(bytes(stored)), _literal_geometry(wkt))))


def register_sqlite_functions(connection: sqlite3.Connection) -> None:
    """Make :data:`SPATIAL_SQL` callable in SQL on this SQLite connection."""
    connection.create_function(SPATIAL_SQL, 3, _spatial, deterministic=True)


Move = Callable[[shapely.Geometry], shapely.Geometry]


def spatial_sql(
    postgis: bool, predicate: str, column: Any, geom: shapely.Geometry
) -> ColumnElement[bool]:
    """``column`` (a stored geometry) ``predicate`` (``INTERSECTS``…) the lon/lat ``geom``,
    as SQL: PostGIS's function, or on SQLite :data:`SPATIAL_SQL`."""
    if postgis:
        return getattr(func, PREDICATES[predicate])(column, func.ST_GeomFromText(geom.wkt, 4326))
    call = func.gridgov_spatial(literal(predicate), column, literal(geom.wkt))
    return call == 1


def to_sql(
    node: Any,
    columns: Mapping[str, tuple[Any, str]],
    geometry: Any,
    postgis: bool,
    move: Move | None = None,
) -> ColumnElement[bool]:
    """The SQL condition of a parsed CQL2 filter.

    ``columns`` maps each queryable property to its SQL expression and its JSON Schema
    type (``string``, ``integer``, ``number``, ``boolean``, ``date-time``): a literal of
    another type is refused rather than left to the database; ``geometry`` is the
    geometry column; ``move`` brings a geometry literal into CRS84.

    Raises
    ------
    FilterError
        Naming the property or operator that cannot be run.
    """
    return _Translate(columns, geometry, postgis, move or (lambda g: g)).condition(node)


class _Translate:
    def __init__(
        self, columns: Mapping[str, tuple[Any, str]], geometry: Any, postgis: bool, move: Move
    ):
        self.columns, self.geometry, self.postgis, self.move = columns, geometry, postgis, move

    def condition(self, node: Any) -> ColumnElement[bool]:
        if isinstance(node, ast.And):
            return and_(self.condition(node.lhs), self.condition(node.rhs))
        if isinstance(node, ast.Or):
            return or_(self.condition(node.lhs), self.condition(node.rhs))
        if isinstance(node, ast.Not):
            return not_(self.condition(node.sub_node))
        if isinstance(node, ast.Include):  # INCLUDE, or EXCLUDE with ``not_``
            return not_(true()) if node.not_ else true()
        if isinstance(node, ast.Comparison):
            return self._compare(node)
        if isinstance(node, ast.Between):
            self._same_kind(node.lhs, node.low, node.high)
            test = self.value(node.lhs).between(self.value(node.low), self.value(node.high))
            return not_(test) if node.not_ else test
        if isinstance(node, ast.In):
            self._same_kind(node.lhs, *node.sub_nodes)
            test = self.value(node.lhs).in_([self.value(v) for v in node.sub_nodes])
            return not_(test) if node.not_ else test
        if isinstance(node, ast.IsNull):
            lhs = self.value(node.lhs)
            return lhs.is_not(None) if node.not_ else lhs.is_(None)
        if isinstance(node, ast.Like):
            return self._like(node)
        if isinstance(node, ast.SpatialComparisonPredicate):
            return self._spatial(node.op.value, node.lhs, node.rhs)
        if isinstance(node, ast.BBox):
            box = shapely.box(node.minx, node.miny, node.maxx, node.maxy)
            return self._spatial("INTERSECTS", node.lhs, box)
        if isinstance(node, ast.Attribute) and self._kind(node) == "boolean":  # alone
            return self.value(node) == True  # noqa: E712 - SQL, not Python
        raise FilterError(f"this service cannot run {_name_of(node)} in a filter")

    def _kind(self, node: Any) -> str:
        if isinstance(node, ast.Attribute):
            self.value(node)  # an unknown property is named
            return self.columns[node.name][1]
        if isinstance(node, bool):
            return "boolean"
        if isinstance(node, int | float):
            return "number"
        if isinstance(node, str):
            return "string"
        if isinstance(node, date):
            return "date-time"
        raise FilterError(f"this service cannot compare {_name_of(node)}")

    def _same_kind(self, *nodes: Any) -> None:
        """Refuse comparing a property with a literal of another type (a text with a
        number): PostgreSQL would refuse it at run time, SQLite would answer nonsense."""
        kinds = {"integer": "number"}
        seen = {kinds.get(k, k) for k in (self._kind(n) for n in nodes)}
        if len(seen) > 1:
            shown = ", ".join(n.name if isinstance(n, ast.Attribute) else repr(n) for n in nodes)
            raise FilterError(f"{shown}: a {' is compared with a '.join(sorted(seen))}")

    def _compare(self, node: Any) -> ColumnElement[bool]:
        self._same_kind(node.lhs, node.rhs)
        lhs, rhs = self.value(node.lhs), self.value(node.rhs)
        op = node.op.value
        tests: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
            "=": lambda a, b: a == b,
            "<>": lambda a, b: a != b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
        }
        if op not in tests:
            raise FilterError(f"this service cannot run the comparison {op!r}")
        return tests[op](lhs, rhs)

    def _like(self, node: Any) -> ColumnElement[bool]:
        if not isinstance(node.pattern, str) or self._kind(node.lhs) != "string":
            raise FilterError("LIKE compares a text property with a text pattern")
        lhs = self.value(node.lhs)
        if self.postgis:
            test = lhs.like(node.pattern, escape="\\")
        else:
            test = lhs.op("GLOB")(_glob(node.pattern))
        return not_(test) if node.not_ else test

    def _spatial(self, predicate: str, lhs: Any, rhs: Any) -> ColumnElement[bool]:
        if predicate not in PREDICATES:
            raise FilterError(f"this service cannot run S_{predicate}")
        flip = not _is_geometry_property(lhs)
        prop, other = (rhs, lhs) if flip else (lhs, rhs)
        if not _is_geometry_property(prop):
            raise FilterError(
                f"S_{predicate} compares the features' geometry with a geometry; "
                "name the property 'geometry'"
            )
        geom = self.move(_geometry_of(other))
        if not geom.is_valid:
            raise FilterError(f"the filter's geometry {geom.wkt[:80]} is not valid")
        if flip:  # A op B == B op' A: only the symmetric ones, and contains/within
            predicate = {"CONTAINS": "WITHIN", "WITHIN": "CONTAINS"}.get(predicate, predicate)
        return spatial_sql(self.postgis, predicate, self.geometry, geom)

    def value(self, node: Any) -> Any:
        if isinstance(node, ast.Attribute):
            if node.name not in self.columns:
                known = ", ".join(sorted(self.columns))
                raise FilterError(
                    f"property {node.name!r} is not queryable here; queryable: {known}"
                )
            return self.columns[node.name][0]
        if isinstance(node, datetime):
            if node.tzinfo is not None:
                node = node.astimezone(UTC).replace(tzinfo=None)
            return literal(node)
        if isinstance(node, date):
            return literal(datetime(node.year, node.month, node.day))
        if isinstance(node, bool | int | float | str):
            return literal(node)
        raise FilterError(f"this service cannot compare {_name_of(node)}")


def _is_geometry_property(node: Any) -> bool:
    return isinstance(node, ast.Attribute) and node.name in GEOMETRY_NAMES


def _geometry_of(node: Any) -> shapely.Geometry:
    if isinstance(node, shapely.Geometry):  # BBOX(geometry, …), already made
        return node
    if isinstance(node, values.Geometry):
        try:
            return shape(node.geometry)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise FilterError(f"the filter's geometry cannot be read: {exc}") from None
    if isinstance(node, values.Envelope):
        return shapely.box(node.x1, node.y1, node.x2, node.y2)
    if isinstance(node, ast.Function) and node.name.lower() == "bbox" and len(node.arguments) == 4:
        try:
            return shapely.box(*(float(a) for a in node.arguments))
        except (TypeError, ValueError):
            raise FilterError("BBOX takes four numbers") from None
    raise FilterError(f"a spatial predicate needs a geometry, not {_name_of(node)}")


def _name_of(node: Any) -> str:
    if isinstance(node, ast.Function):
        return f"the function {node.name}()"
    op = getattr(getattr(node, "op", None), "value", None)
    return f"{type(node).__name__}" + (f" ({op})" if op else "")


def _glob(pattern: str) -> str:
    """A CQL2 ``LIKE`` pattern (``%``, ``_``, ``\\`` to escape) as an SQLite ``GLOB``."""
    out: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            out.append(f"[{char}]" if char in "*?[" else char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        elif char in "*?[":
            out.append(f"[{char}]")
        else:
            out.append(char)
    if escaped:
        out.append("\\")
    return "".join(out)
