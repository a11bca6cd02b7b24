"""A small picture of where a case is, drawn on the server as inline SVG.

The follow page (``/report/{id}``) shows it: the case's grid, its neighbours, the
streets and buildings around, and the case's point.  No script and no tiles, so it
shows on any phone, online or not.  The layers come simplified (``gis.basemap``) and
cut to the picture's box; coordinates are written to a tenth of a pixel.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Protocol

import geopandas as gpd
import shapely
from markupsafe import Markup, escape

WIDTH = 320  # the picture's width in CSS pixels; its height follows the box
STREET_WIDTH = {"primary": 6.0, "lane": 4.0, "path": 2.0}


class Around(Protocol):
    """What a sketch is drawn from (``service.basemap.Sketch``): simplified layers cut
    to ``box``, the case's ``point`` (lon, lat) and its ``grid``'s code."""

    @property
    def frames(self) -> Mapping[str, gpd.GeoDataFrame]: ...
    @property
    def box(self) -> tuple[float, float, float, float]: ...
    @property
    def point(self) -> tuple[float, float]: ...
    @property
    def grid(self) -> str | None: ...


class _Frame:
    """Projects WGS84 into the picture: x east, y down, equal metres both ways."""

    def __init__(self, box: tuple[float, float, float, float]) -> None:
        self.x0, self.y0, x1, self.y1 = box
        self.squeeze = math.cos(math.radians((self.y0 + self.y1) / 2))
        self.scale = WIDTH / max((x1 - self.x0) * self.squeeze, 1e-9)
        self.height = round((self.y1 - self.y0) * self.scale, 1)

    def xy(self, lon: float, lat: float) -> str:
        x = (lon - self.x0) * self.squeeze * self.scale
        y = (self.y1 - lat) * self.scale
        return f"{x:.1f} {y:.1f}"

    def path(self, geometry: shapely.Geometry) -> str:
        """SVG path data of a (multi)polygon's rings or a (multi)line's lines."""
        parts: list[str] = []
        for line, closed in _lines(geometry):
            points = [self.xy(x, y) for x, y in line.coords]
            if len(points) > 1:
                parts.append("M" + "L".join(points) + ("Z" if closed else ""))
        return "".join(parts)


def _lines(geometry: shapely.Geometry) -> Iterable[tuple[shapely.Geometry, bool]]:
    if isinstance(geometry, shapely.Polygon):
        yield geometry.exterior, True
        for ring in geometry.interiors:
            yield ring, True
    elif isinstance(geometry, shapely.LineString):
        yield geometry, False
    elif hasattr(geometry, "geoms"):
        for part in geometry.geoms:
            yield from _lines(part)


def _paths(frame: _Frame, layer: gpd.GeoDataFrame | None, attributes: str) -> list[str]:
    if layer is None or not len(layer):
        return []
    return [f'<path d="{d}" {attributes}/>' for d in (frame.path(g) for g in layer.geometry) if d]


def sketch_svg(
    layers: Mapping[str, gpd.GeoDataFrame],
    box: tuple[float, float, float, float],
    point: tuple[float, float],
    grid: str | None,
    title: str,
) -> Markup:
    """An ``<svg>`` of ``layers`` (``buildings``, ``streets``, ``grids``, ``community``,
    cut to ``box``) with grid ``grid`` picked out and the case at ``point`` (lon, lat);
    ``title`` names it for screen readers."""
    frame = _Frame(box)
    grids = layers.get("grids")
    mine = grids[grids["code"].astype(str) == grid] if grids is not None and grid else None
    streets = layers.get("streets")
    body: list[str] = [f'<rect width="{WIDTH}" height="{frame.height}" fill="#f2efe9"/>']
    body += _paths(frame, layers.get("buildings"), 'fill="#dcd8d0" stroke="#cbc6bd"')
    if mine is not None and len(mine):
        body += _paths(frame, mine, 'fill="#ffd98a" fill-opacity="0.45" stroke="none"')
    if streets is not None and len(streets):
        kinds = streets["kind"] if "kind" in streets else ["path"] * len(streets)
        for colour, extra in (("#d3cdc2", 2.0), ("#ffffff", 0.0)):  # casing, then the street
            for geometry, kind in zip(streets.geometry, kinds, strict=True):
                width = STREET_WIDTH.get(str(kind), 2.0) + extra
                d = frame.path(geometry)
                if d:
                    body.append(
                        f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{width:g}" '
                        'stroke-linecap="round" stroke-linejoin="round"/>'
                    )
    body += _paths(
        frame, grids, 'fill="none" stroke="#55657f" stroke-width="1.5" stroke-dasharray="6 4"'
    )
    if mine is not None and len(mine):
        body += _paths(frame, mine, 'fill="none" stroke="#c2410c" stroke-width="3"')
    body += _paths(frame, layers.get("community"), 'fill="none" stroke="#5b3f8c" stroke-width="3"')
    x, y = frame.xy(*point).split()
    body.append(f'<circle cx="{x}" cy="{y}" r="8" fill="#d62728" stroke="#fff" stroke-width="3"/>')
    label = escape(title)
    return Markup(
        f'<svg class="gg-sketch" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{label}" viewBox="0 0 {WIDTH} {frame.height}" width="100%" '
        'style="display:block;max-height:45vh" '
        f'preserveAspectRatio="xMidYMid meet"><title>{label}</title>{"".join(body)}</svg>'
    )


def sketch_of(around: Around, title: str) -> Markup:
    """:func:`sketch_svg` of what ``around`` holds."""
    return sketch_svg(around.frames, around.box, around.point, around.grid, title)
