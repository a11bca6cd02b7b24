"""Light geometry for drawing a map without tiles: layers simplified and rounded.

A phone draws a community's outline, grids, streets and buildings from gridgov's own
layers when no tile server answers.  Those layers are drawn at street zoom, where a
metre or two is below a pixel, so their geometry is simplified in the community's
metric CRS (Douglas-Peucker, topology kept) and the coordinates rounded to about ten
centimetres (six decimals of a degree), which makes the GeoJSON several times smaller.
"""

from __future__ import annotations

import geopandas as gpd
import shapely

from gis.crs import metric_crs_of

TOLERANCE_M = 1.5  # how far a simplified line may stray from the stored one, in metres
DIGITS = 6  # decimals of a degree kept: about 0.1 m


def simplified(
    frame: gpd.GeoDataFrame,
    metric_crs: str | None = None,
    tolerance_m: float = TOLERANCE_M,
    digits: int = DIGITS,
) -> gpd.GeoDataFrame:
    """``frame`` (WGS84) with its geometry simplified by ``tolerance_m`` metres in
    ``metric_crs`` (by default the zone of its centre) and rounded to ``digits`` decimals.

    Polygons stay valid (``preserve_topology``, and a precision grid that keeps them
    valid); a feature that simplifies away to nothing is left out.  The other columns
    are kept as they are.
    """
    if not len(frame):
        return frame.copy()
    crs = metric_crs or metric_crs_of(frame)
    metric = frame.geometry.to_crs(crs)
    thin = shapely.simplify(metric.values, tolerance_m, preserve_topology=True)
    back = gpd.GeoSeries(thin, crs=crs).to_crs("EPSG:4326")
    rounded = shapely.set_precision(back.values, 10.0**-digits)
    out = frame.copy()
    out = out.set_geometry(gpd.GeoSeries(rounded, index=frame.index, crs="EPSG:4326"))
    keep = ~shapely.is_empty(rounded)
    return out[keep].reset_index(drop=True)


def vertex_count(frame: gpd.GeoDataFrame) -> int:
    """How many coordinates the geometry of ``frame`` holds."""
    return int(shapely.get_num_coordinates(frame.geometry.values).sum()) if len(frame) else 0
