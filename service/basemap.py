"""A community's map without tiles: its outline, grids, streets and buildings, made light.

Pages draw it under their overlays (``layers/static/gridgov-basemap.js``) so that a map
is readable where no tile server answers (an intranet).  It is built once per
community and version of the layers, simplified (``gis.basemap``), and answered with a
strong ``ETag`` (a hash of the body itself) so that phones fetch it once and then only
ask whether it changed.

Only public fields go out: codes and names, and a street's kind; none of a grid's staff
or a building's households.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy.orm import Session

from cases.areas import DEPLOYMENT, Level, level_of
from gis.basemap import DIGITS, simplified
from gis.crs import metric_crs_of
from service.community import layers_stamp
from service.errors import NotFound
from service.scope import asked_area
from store.layers import read_layer

# what each layer keeps, drawn bottom to top
KEPT: dict[str, tuple[str, ...]] = {
    "buildings": (),
    "streets": ("kind",),
    "community": ("code", "name", "name_en"),
    "grids": ("code", "name", "name_en"),
}
FORMAT = 1  # bump when the answer's shape changes, so that caches let go of the old one


@dataclass(frozen=True)
class Basemap:
    """The GeoJSON body (UTF-8) and its entity tag (quoted, as HTTP writes it); also the
    simplified layers it was written from, by name, for pictures drawn on the server."""

    body: bytes
    etag: str
    frames: Mapping[str, gpd.GeoDataFrame] = field(default_factory=dict, compare=False, repr=False)

    def matches(self, if_none_match: str | None) -> bool:
        """Whether an ``If-None-Match`` header names this version (weakly, as GET may)."""
        if not if_none_match:
            return False
        tags = [t.strip() for t in if_none_match.split(",")]
        return any(t == "*" or t.removeprefix("W/") == self.etag for t in tags)


class BasemapCache:
    """Built basemaps by area, each kept until the stored layers change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: dict[str, tuple[tuple[int, int, int], Basemap]] = {}

    def get(self, session: Session, area: str) -> Basemap:
        stamp = layers_stamp(session)
        with self._lock:
            held = self._built.get(area)
            if held is not None and held[0] == stamp:
                return held[1]
        made = _build(session, area)
        with self._lock:
            self._built[area] = (stamp, made)
        return made


def basemap(session: Session, cache: BasemapCache, area: str | None = None) -> Basemap:
    """The tileless map of ``area``: a community's code, or one of its grids' (the
    community's map), a street's or a district's (their communities'), or none (every
    community loaded).

    Raises
    ------
    Invalid
        ``bad_area`` when ``area`` is not a division code.
    NotFound
        ``area_not_loaded`` when no grid of the area is loaded.
    """
    code = asked_area(area)
    if code != DEPLOYMENT and level_of(code) is Level.GRID:
        code = code[: Level.COMMUNITY.digits]
    return cache.get(session, code)


def _build(session: Session, area: str) -> Basemap:
    frames = {name: read_layer(session, name, area=area) for name in KEPT}
    if not len(frames["grids"]):
        where = f"area {area}" if area else "any community"
        raise NotFound("area_not_loaded", f"no grid of {where} is loaded")
    crs = metric_crs_of(frames["grids"])  # one zone for every layer of the area
    features: list[dict[str, Any]] = []
    thin: dict[str, gpd.GeoDataFrame] = {}
    for name, columns in KEPT.items():
        thin[name] = simplified(frames[name], crs)
        features.extend(_features(name, thin[name], columns))
    collection = {"type": "FeatureCollection", "format": FORMAT, "features": features}
    body = json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode()
    return Basemap(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"', thin)


@dataclass(frozen=True)
class Sketch:
    """The simplified layers around a case, cut to ``box`` (WGS84 min lon, min lat, max
    lon, max lat): what a small picture of its grid and its point needs."""

    frames: dict[str, gpd.GeoDataFrame]
    box: tuple[float, float, float, float]
    point: tuple[float, float]
    grid: str | None


def sketch_around(
    session: Session,
    cache: BasemapCache,
    lon: float,
    lat: float,
    grid: str | None,
    margin_m: float = 80.0,
) -> Sketch | None:
    """The layers around a point (a case) in grid ``grid``: its grid and the point with
    ``margin_m`` metres about them; ``None`` when no grid is loaded there."""
    try:
        drawn = basemap(session, cache, grid)
    except NotFound:
        return None
    grids = drawn.frames["grids"]
    mine = grids[grids["code"].astype(str) == grid] if grid and len(grids) else grids.iloc[:0]
    x0, y0, x1, y1 = (float(v) for v in mine.total_bounds) if len(mine) else (lon, lat, lon, lat)
    x0, y0, x1, y1 = min(x0, lon), min(y0, lat), max(x1, lon), max(y1, lat)
    dy = margin_m / 111_320.0
    dx = dy / max(math.cos(math.radians((y0 + y1) / 2)), 0.1)
    box = (x0 - dx, y0 - dy, x1 + dx, y1 + dy)
    frames = {}
    for name, frame in drawn.frames.items():
        cut = frame.copy()
        cut = cut.set_geometry(shapely.clip_by_rect(frame.geometry.values, *box))
        frames[name] = cut[~cut.geometry.is_empty].reset_index(drop=True)
    return Sketch(frames, box, (lon, lat), grid if len(mine) else None)


def _features(
    layer: str, frame: gpd.GeoDataFrame, columns: tuple[str, ...]
) -> list[dict[str, Any]]:
    out = []
    labels = frame.geometry.representative_point() if layer == "grids" and len(frame) else None
    for i, geometry in enumerate(frame.geometry):
        props: dict[str, Any] = {"layer": layer}
        for column in columns:
            value = frame[column].iloc[i] if column in frame else None
            if isinstance(value, str) and value:
                props[column] = value
        if labels is not None:
            point = labels.iloc[i]
            props["label"] = [round(point.x, DIGITS), round(point.y, DIGITS)]
        out.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": _rounded(shapely.geometry.mapping(geometry)),
            }
        )
    return out


def _rounded(geometry: Any) -> Any:
    """A GeoJSON geometry's coordinates rounded to :data:`DIGITS` decimals (the precision
    grid leaves binary fractions such as 121.82232000000001)."""
    if isinstance(geometry, dict):
        return {
            k: _rounded(v) if k in ("coordinates", "geometries") else v for k, v in geometry.items()
        }
    if isinstance(geometry, (list, tuple)):
        if geometry and isinstance(geometry[0], float | int):
            return [round(float(v), DIGITS) for v in geometry]
        return [_rounded(part) for part in geometry]
    return geometry
