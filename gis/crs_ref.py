"""Coordinate reference systems named by reference (OGC API – Features Part 2).

A CRS is named by its URI (``http://www.opengis.net/def/crs/EPSG/0/4550``); the
stored data are WGS84 longitude/latitude (``CRS84``).  Coordinates are written in
the axis order the CRS's authority defines: latitude first for EPSG:4326 and
EPSG:4490, northing first for the CGCS2000 Gauss-Krüger zones (EPSG:4534-4554);
CRS84 alone is longitude first.
"""

from __future__ import annotations

from functools import cache
from typing import Final

import numpy as np
import shapely
from pyproj import CRS, Transformer

CRS84: Final = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_PREFIX: Final = "http://www.opengis.net/def/crs/EPSG/0/"
_SHORT: Final = {"OGC:CRS84": CRS84, "CRS84": CRS84}


class UnknownCRS(ValueError):
    """A CRS name that is not a URI of the form this service reads."""


def epsg_uri(code: int | str) -> str:
    """The URI of ``EPSG:code``."""
    return f"{EPSG_PREFIX}{str(code).removeprefix('EPSG:')}"


def canonical(name: str) -> str:
    """The URI of a CRS written as a URI, ``EPSG:n`` or ``OGC:CRS84``.

    Raises
    ------
    UnknownCRS
        For anything else, naming it.
    """
    text = name.strip().removeprefix("[").removesuffix("]")  # a safe CURIE: [EPSG:4326]
    if text in _SHORT:
        return _SHORT[text]
    if text == CRS84:
        return CRS84
    code = text.removeprefix(EPSG_PREFIX) if text.startswith(EPSG_PREFIX) else ""
    if not code and text.upper().startswith("EPSG:"):
        code = text[5:]
    if code.isdigit() and len(code) <= 6:
        return epsg_uri(int(code))
    raise UnknownCRS(f"crs {name!r} is not a CRS URI such as {CRS84} or {EPSG_PREFIX}4326")


def _pyproj_name(uri: str) -> str:
    return "OGC:CRS84" if uri == CRS84 else "EPSG:" + uri.removeprefix(EPSG_PREFIX)


@cache
def _transformer(source: str, target: str) -> Transformer:
    # always_xy=False: each side in its authority's axis order (CRS84 is lon, lat)
    return Transformer.from_crs(CRS(_pyproj_name(source)), CRS(_pyproj_name(target)))


def from_crs84(geom: shapely.Geometry, target: str) -> shapely.Geometry:
    """``geom`` (lon/lat) in CRS ``target`` (a URI), in that CRS's axis order."""
    return _moved(geom, CRS84, target)


def to_crs84(geom: shapely.Geometry, source: str) -> shapely.Geometry:
    """``geom`` given in CRS ``source`` (its axis order) as lon/lat."""
    return _moved(geom, source, CRS84)


def _moved(geom: shapely.Geometry, source: str, target: str) -> shapely.Geometry:
    """``geom`` from CRS ``source`` to ``target``, each in its own axis order."""
    if source == target:
        return geom
    transformer = _transformer(source, target)

    def move(coords: np.ndarray) -> np.ndarray:
        a, b = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([a, b])

    return shapely.transform(geom, move)


def box_to_crs84(
    box: tuple[float, float, float, float], source: str
) -> tuple[tuple[float, float, float, float], shapely.Geometry | None]:
    """A box given in ``source`` (axis order of that CRS) as a lon/lat box enclosing it,
    and the exact lon/lat shape it covers (None when that is the box itself)."""
    if source == CRS84:
        return box, None
    shape = to_crs84(shapely.segmentize(shapely.box(*box), _step(box)), source)
    xmin, ymin, xmax, ymax = shapely.bounds(shape).tolist()
    if _is_geographic(source):  # a lat/lon box is a lon/lat box with its axes swapped
        return (xmin, ymin, xmax, ymax), None
    return (xmin, ymin, xmax, ymax), shape


def box_from_crs84(
    box: tuple[float, float, float, float], target: str
) -> tuple[float, float, float, float]:
    """The box in ``target`` (its axis order) enclosing a lon/lat box."""
    if target == CRS84:
        return box
    shape = from_crs84(shapely.segmentize(shapely.box(*box), _step(box)), target)
    xmin, ymin, xmax, ymax = shapely.bounds(shape).tolist()
    return (xmin, ymin, xmax, ymax)


def _step(box: tuple[float, float, float, float]) -> float:
    width = max(box[2] - box[0], box[3] - box[1])
    return width / 16 if width > 0 else 1.0


@cache
def _is_geographic(uri: str) -> bool:
    return bool(CRS(_pyproj_name(uri)).is_geographic)


def valid_area(uri: str) -> tuple[float, float, float, float] | None:
    """Where ``uri`` may be used, as a lon/lat box (from the EPSG database)."""
    area = CRS(_pyproj_name(uri)).area_of_use
    return None if area is None else area.bounds
