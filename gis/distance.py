"""Straight-line distances in metres, measured in a metric CRS.

Each function takes the metric CRS as ``metric_crs``; by default it is the
CGCS2000 3-degree zone of the data's centre (:func:`gis.crs.metric_crs_of`),
EPSG:4550 for Lingxiao.  Pass the community's CRS to measure every place of a
community on one grid.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely

from gis.crs import METRIC, check_lonlat, metric_crs_of, to_metric


def to_metric_geometry(
    geometry: shapely.Geometry, *, metric_crs: str | None = None
) -> shapely.Geometry:
    """A WGS84 geometry projected to a metric CRS.

    Parameters
    ----------
    geometry : shapely geometry
        In WGS84.
    metric_crs : str, optional
        By default the zone of the geometry's centre.

    Returns
    -------
    shapely geometry
        In metres; an empty geometry comes back empty.
    """
    crs = metric_crs or metric_crs_of(geometry, default=METRIC)  # empty: nothing to project
    return shapely.transform(
        geometry, lambda xy: np.column_stack(to_metric(xy[:, 0], xy[:, 1], metric_crs=crs))
    )


def distance_to_m(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    geometry: shapely.Geometry,
    *,
    metric_crs: str | None = None,
) -> np.ndarray:
    """Metres from each WGS84 point to a WGS84 geometry (0 inside a polygon).

    Parameters
    ----------
    lon, lat : array-like
        The points, in degrees.
    geometry : shapely geometry
        The place measured to (a community's outline, say), in WGS84.
    metric_crs : str, optional
        By default the zone of the geometry's centre.

    Returns
    -------
    ndarray
        Metres, in the points' broadcast shape (``nan`` for an empty geometry).
    """
    if shapely.is_empty(geometry):
        return np.full(check_lonlat(lon, lat)[0].shape, np.nan)
    crs = metric_crs or metric_crs_of(geometry)
    x, y = to_metric(lon, lat, metric_crs=crs)
    outline = to_metric_geometry(geometry, metric_crs=crs)
    return np.asarray(shapely.distance(shapely.points(x, y), outline))


def pairwise_m(
    lon: float,
    lat: float,
    lons: npt.ArrayLike,
    lats: npt.ArrayLike,
    *,
    metric_crs: str | None = None,
) -> npt.NDArray[np.float64]:
    """Metres from one WGS84 point to each of many.

    Parameters
    ----------
    lon, lat : float
        The origin, in degrees.
    lons, lats : array-like
        The destinations, in degrees, broadcast against each other.
    metric_crs : str, optional
        By default the zone of the middle of all the points' longitude span.

    Returns
    -------
    ndarray of float64
        Metres, in the destinations' broadcast shape.
    """
    ox, oy = check_lonlat(lon, lat)
    dx, dy = check_lonlat(lons, lats)
    x, y = to_metric(
        np.append(dx.ravel(), ox.ravel()), np.append(dy.ravel(), oy.ravel()), metric_crs=metric_crs
    )
    n = dx.size
    return np.asarray(np.hypot(x[:n] - x[n:], y[:n] - y[n:]), dtype=np.float64).reshape(dx.shape)


def degree_margin(lat: float, metres: float) -> tuple[float, float]:
    """Longitude and latitude spans that surely cover ``metres`` around latitude ``lat``.

    For a bounding-box prefilter before exact metric distances; 10 % generous.
    """
    dlat = metres / 110_574.0 * 1.1
    dlon = metres / (111_320.0 * max(np.cos(np.radians(lat)), 0.01)) * 1.1
    return float(dlon), float(dlat)
