"""Straight-line distances in metres, measured in the metric CRS."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely

from gis.crs import to_metric


def to_metric_geometry(geometry: shapely.Geometry) -> shapely.Geometry:
    """A WGS84 geometry projected to the metric CRS."""
    return shapely.transform(geometry, lambda xy: np.column_stack(to_metric(xy[:, 0], xy[:, 1])))


def distance_to_m(lon: npt.ArrayLike, lat: npt.ArrayLike, geometry: shapely.Geometry) -> np.ndarray:
    """Metres from each WGS84 point to a WGS84 geometry (0 inside a polygon)."""
    x, y = to_metric(lon, lat)
    return np.asarray(shapely.distance(shapely.points(x, y), to_metric_geometry(geometry)))


def pairwise_m(
    lon: float, lat: float, lons: npt.ArrayLike, lats: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Metres from one WGS84 point to each of many."""
    x0, y0 = to_metric(lon, lat)
    x, y = to_metric(lons, lats)
    return np.asarray(np.hypot(x - x0, y - y0), dtype=np.float64)


def degree_margin(lat: float, metres: float) -> tuple[float, float]:
    """Longitude and latitude spans that surely cover ``metres`` around latitude ``lat``.

    For a bounding-box prefilter before exact metric distances; 10 % generous.
    """
    dlat = metres / 110_574.0 * 1.1
    dlon = metres / (111_320.0 * max(np.cos(np.radians(lat)), 0.01)) * 1.1
    return float(dlon), float(dlat)
