"""Coordinate systems used in China: WGS84, GCJ-02, BD-09 and a metric grid.

Every transform is vectorised with numpy: longitude and latitude (degrees) may be
scalars or array-likes, are broadcast against each other, and come back as
``float64`` ndarrays of the broadcast shape. Scalar input gives 0-d ndarrays
(unwrap with ``float(x)``).

GCJ-02 and BD-09 follow the public convention. The WGS84 <-> GCJ-02 shift is only
applied inside the rectangle of :func:`out_of_china` (decided on the input point);
other points pass through unchanged. The GCJ-02 <-> BD-09 shift is applied
everywhere. Inverses start from the classic one-step formula and are refined by
fixed-point iteration until the forward transform reproduces the input to
``tol`` degrees (1e-9 deg is about 0.1 mm); ``max_iter=0`` gives the one-step value.
Close to the rectangle's edges a point and its image may fall on different
sides, so round trips there are not exact; the edges lie far from any city.

Metric work (areas, distances, networks) uses a CGCS2000 3-degree Gauss-Krüger
zone, EPSG:4534 (central meridian 75°E) to EPSG:4554 (135°E), chosen per
community by :func:`metric_crs_for` (a longitude) or :func:`metric_crs_of` (the
centre of some data).  These are the "CM" variants: eastings are 500 000 m at
the central meridian, without a zone-number prefix, so metric coordinates do
not say which zone they are in.  Keep the CRS beside them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS, Transformer

if TYPE_CHECKING:
    import geopandas as gpd

FloatArray = npt.NDArray[np.float64]
Pair = tuple[FloatArray, FloatArray]
Forward = Callable[[FloatArray, FloatArray], Pair]

WGS84: Final = "EPSG:4326"
# CGCS2000 / 3-degree Gauss-Kruger CM 123E: the zone of the first community,
# Lingxiao (121.84E).  Only from_metric still defaults to it, since eastings
# alone cannot tell their zone; everything else picks a zone from its data.
METRIC: Final = "EPSG:4550"
ZONE_WIDTH_DEG: Final = 3.0
FIRST_ZONE_CM: Final = 75  # EPSG:4534, CGCS2000 / 3-degree Gauss-Kruger CM 75E
LAST_ZONE_CM: Final = 135  # EPSG:4554, CGCS2000 / 3-degree Gauss-Kruger CM 135E
_FIRST_ZONE_EPSG: Final = 4534
SUPPORTED_INPUT_CRS: Final = ("wgs84", "gcj02", "bd09")

_A: Final = 6378245.0  # Krasovsky 1940 semi-major axis
_EE: Final = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared
_X_PI: Final = np.pi * 3000.0 / 180.0
_ALIASES: Final = {"wgs84": "wgs84", "epsg:4326": "wgs84", "4326": "wgs84"}


class CoordinateError(ValueError):
    """A longitude/latitude (or metric x/y) is non-finite or out of range."""


class UnknownCRSError(ValueError):
    """A CRS name is not one of :data:`SUPPORTED_INPUT_CRS` (or an alias)."""


class MetricZoneError(CoordinateError):
    """No CGCS2000 3-degree zone suits the data: it lies outside 73.5-136.5°E, or is empty."""


class ConvergenceError(RuntimeError):
    """An iterative inverse did not converge within ``max_iter`` steps."""


def _arrays(x: npt.ArrayLike, y: npt.ArrayLike) -> Pair:
    """Return ``x, y`` as float64 ndarrays (0-d for scalars) without copying arrays."""
    return np.asarray(x, np.float64), np.asarray(y, np.float64)


def _first_bad(name: str, arr: FloatArray, bad: npt.NDArray[np.bool_], what: str) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = float(arr.reshape(-1)[i])
        kind = what if np.isfinite(value) else "non-finite"
        raise CoordinateError(f"{name} {value!r} is {kind} (flat index {i})")


def check_lonlat(lon: npt.ArrayLike, lat: npt.ArrayLike) -> Pair:
    """Validate and broadcast longitude/latitude in degrees.

    Returns
    -------
    lon, lat : float64 ndarrays of the broadcast shape (possibly views of the input).

    Raises
    ------
    CoordinateError
        Naming the first non-finite value, lon outside [-180, 180] or lat outside [-90, 90].
    """
    x, y = np.broadcast_arrays(*_arrays(lon, lat))
    _first_bad("longitude", x, ~(np.abs(x) <= 180.0), "outside [-180, 180]")
    _first_bad("latitude", y, ~(np.abs(y) <= 90.0), "outside [-90, 90]")
    return x, y


def out_of_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Return True where a point lies outside the conventional China rectangle (no validation)."""
    x, y = _arrays(lon, lat)
    return np.asarray((x < 72.004) | (x > 137.8347) | (y < 0.8293) | (y > 55.8271))


def _gcj_delta(lon: FloatArray, lat: FloatArray) -> Pair:
    """Return the raw GCJ-02 offset (dlon, dlat) in degrees, ignoring the China rectangle."""
    x, y = lon - 105.0, lat - 35.0
    pi = np.pi
    shared = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += shared + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += shared + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * pi)
    return dlon, dlat


def _refine(forward: Forward, target: Pair, start: Pair, tol: float, max_iter: int) -> Pair:
    """Solve ``forward(p) == target`` by fixed-point iteration on the whole array."""
    x, y = _arrays(*start)
    if max_iter <= 0:
        return x, y
    for _ in range(max_iter):
        fx, fy = forward(x, y)
        ex, ey = fx - target[0], fy - target[1]
        if np.all(np.abs(ex) <= tol) and np.all(np.abs(ey) <= tol):
            return _arrays(x, y)
        x, y = x - ex, y - ey
    raise ConvergenceError(f"inverse transform not within {tol} deg after {max_iter} steps")


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> Pair:
    """Convert WGS84 to GCJ-02; points outside China pass through unchanged."""
    x, y = check_lonlat(lon, lat)
    dx, dy = _gcj_delta(x, y)
    inside = ~out_of_china(x, y)
    return np.where(inside, x + dx, x), np.where(inside, y + dy, y)


def gcj02_to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, tol: float = 1e-9, max_iter: int = 10
) -> Pair:
    """Convert GCJ-02 to WGS84 (iterative inverse; ``max_iter=0`` gives the one-step value)."""
    x, y = check_lonlat(lon, lat)
    inside = ~out_of_china(x, y)

    def forward(wx: FloatArray, wy: FloatArray) -> Pair:
        dx, dy = _gcj_delta(wx, wy)
        return np.where(inside, wx + dx, wx), np.where(inside, wy + dy, wy)

    gx, gy = forward(x, y)
    return _refine(forward, (x, y), (2.0 * x - gx, 2.0 * y - gy), tol, max_iter)


def _bd_forward(x: FloatArray, y: FloatArray) -> Pair:
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return _arrays(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006)


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> Pair:
    """Convert GCJ-02 to BD-09 (applied everywhere, as in the common convention)."""
    return _bd_forward(*check_lonlat(lon, lat))


def bd09_to_gcj02(
    lon: npt.ArrayLike, lat: npt.ArrayLike, tol: float = 1e-9, max_iter: int = 10
) -> Pair:
    """Convert BD-09 to GCJ-02 (iterative inverse; ``max_iter=0`` gives the one-step value)."""
    bx, by = check_lonlat(lon, lat)
    x, y = bx - 0.0065, by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    start = (z * np.cos(theta), z * np.sin(theta))
    return _refine(_bd_forward, (bx, by), start, tol, max_iter)


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> Pair:
    """Convert WGS84 to BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, tol: float = 1e-9, max_iter: int = 10
) -> Pair:
    """Convert BD-09 to WGS84 (via GCJ-02, both inverses iterative)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat, tol, max_iter), tol, max_iter)


def _crs_name(crs: str) -> str:
    key = str(crs).strip().lower()
    name = _ALIASES.get(key, key)
    if name not in SUPPORTED_INPUT_CRS:
        raise UnknownCRSError(
            f"unknown CRS {crs!r}; expected one of {', '.join(SUPPORTED_INPUT_CRS)} "
            "(case-insensitive; 'EPSG:4326' and '4326' mean wgs84)"
        )
    return name


def to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str) -> Pair:
    """Convert from ``crs`` ("wgs84", "gcj02" or "bd09") to WGS84; always returns new arrays."""
    name = _crs_name(crs)
    x, y = check_lonlat(lon, lat)
    convert = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}.get(name)
    return convert(x, y) if convert else (x.copy(), y.copy())


def from_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str) -> Pair:
    """Convert from WGS84 to ``crs`` ("wgs84", "gcj02" or "bd09"); always returns new arrays."""
    name = _crs_name(crs)
    x, y = check_lonlat(lon, lat)
    convert = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}.get(name)
    return convert(x, y) if convert else (x.copy(), y.copy())


@cache
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)  # thread-safe since pyproj 3.1


def metric_crs_for(lon: float) -> str:
    """The CGCS2000 3-degree Gauss-Krüger CRS whose central meridian is nearest ``lon``.

    Zones are 3° wide, centred on 75°E, 78°E ... 135°E (EPSG:4534 to
    EPSG:4554).  A longitude exactly half-way between two central meridians
    (121.5°E, say) belongs to the eastern zone, as in the usual zone number
    ``floor((lon + 1.5) / 3)``.

    Parameters
    ----------
    lon : float
        Longitude in degrees east (WGS84 or CGCS2000; the two agree to well
        under a metre).

    Returns
    -------
    str
        ``"EPSG:45xx"``, e.g. ``"EPSG:4550"`` (CM 123°E) for Lingxiao at
        121.84°E and ``"EPSG:4548"`` (CM 117°E) for Beijing at 116.4°E.

    Raises
    ------
    MetricZoneError
        Naming the longitude, when it is not finite or its nearest central
        meridian is outside 75°E to 135°E (``lon`` outside [73.5, 136.5)).
    """
    value = float(lon)
    if not np.isfinite(value):
        raise MetricZoneError(f"longitude {value!r} is not a finite number; no metric CRS for it")
    cm = np.floor((value + ZONE_WIDTH_DEG / 2) / ZONE_WIDTH_DEG) * ZONE_WIDTH_DEG
    if not FIRST_ZONE_CM <= cm <= LAST_ZONE_CM:
        raise MetricZoneError(
            f"longitude {value!r} is outside the CGCS2000 3-degree Gauss-Krüger zones "
            f"(central meridians {FIRST_ZONE_CM}°E to {LAST_ZONE_CM}°E, longitudes "
            f"{FIRST_ZONE_CM - ZONE_WIDTH_DEG / 2:g} to {LAST_ZONE_CM + ZONE_WIDTH_DEG / 2:g}); "
            "no metric CRS for it"
        )
    return f"EPSG:{_FIRST_ZONE_EPSG + int(cm - FIRST_ZONE_CM) // int(ZONE_WIDTH_DEG)}"


def metric_crs_of(
    data: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | npt.ArrayLike,
    default: str | None = None,
) -> str:
    """The metric CRS (:func:`metric_crs_for`) for the centre of some data.

    The centre is the middle of the data's WGS84 bounding box; only its
    longitude matters.  The box is cheap to find for any number of features,
    and for a community-sized layer it lies in the same zone as any centroid
    unless the community straddles a zone edge (121.5°E, 118.5°E ...), where
    the layers of one community might each pick a different zone: then pass
    the community's CRS explicitly.

    Parameters
    ----------
    data : GeoDataFrame, GeoSeries, shapely geometry or array of geometries
        A frame or series in any CRS (it is taken to WGS84 unless its CRS is
        geographic; no CRS means WGS84).  Bare geometries must be in WGS84
        (or GCJ-02/BD-09: their offsets are far below a zone's width).
    default : str, optional
        Returned when the data holds no coordinates (empty or all missing).

    Returns
    -------
    str
        ``"EPSG:4534"`` to ``"EPSG:4554"``.

    Raises
    ------
    MetricZoneError
        When the centre is outside the zones (naming its longitude), or the
        data holds no coordinates and there is no ``default``.
    """
    crs = getattr(data, "crs", None)
    if crs is not None and hasattr(data, "to_crs") and not CRS.from_user_input(crs).is_geographic:
        data = data.to_crs(WGS84)
    geoms = getattr(data, "geometry", data)
    bounds = shapely.bounds(np.asarray(geoms, dtype=object)).reshape(-1, 4)
    west, east = bounds[:, 0], bounds[:, 2]
    if not np.isfinite(west).any():
        if default is not None:
            return default
        raise MetricZoneError("no coordinates to pick a metric CRS from")
    return metric_crs_for((float(np.nanmin(west)) + float(np.nanmax(east))) / 2)


def _pick_crs(lon: FloatArray, metric_crs: str | None) -> str:
    """``metric_crs``, or else the zone of the middle of the longitudes' span."""
    if metric_crs is not None:
        return metric_crs
    if lon.size == 0:
        return METRIC  # nothing to project: any zone gives the same (empty) answer
    return metric_crs_for((float(lon.min()) + float(lon.max())) / 2)


def to_metric(lon: npt.ArrayLike, lat: npt.ArrayLike, *, metric_crs: str | None = None) -> Pair:
    """Project WGS84 lon/lat to easting/northing in metres.

    Parameters
    ----------
    lon, lat : array-like
        Degrees, broadcast against each other.
    metric_crs : str, optional
        The projected CRS, e.g. the community's ``metric_crs_for(...)``.  By
        default the zone of the middle of the points' longitude span
        (:func:`metric_crs_for`): EPSG:4550 for Lingxiao.  Points projected by
        separate calls only share a grid if they share the CRS, so pass it
        whenever the results meet other metric coordinates (a network, say).

    Returns
    -------
    x, y : float64 ndarrays of the broadcast shape.

    Raises
    ------
    CoordinateError
        For a non-finite or out-of-range coordinate, or (:class:`MetricZoneError`)
        by default, for points outside China's zones.
    """
    x, y = check_lonlat(lon, lat)
    crs = _pick_crs(x, metric_crs)
    e, n = _arrays(*_transformer(WGS84, crs).transform(x, y))
    return e.reshape(x.shape), n.reshape(x.shape)


def from_metric(x: npt.ArrayLike, y: npt.ArrayLike, *, metric_crs: str = METRIC) -> Pair:
    """Unproject easting/northing in metres to WGS84 lon/lat.

    Parameters
    ----------
    x, y : array-like
        Metres in ``metric_crs``, broadcast against each other.
    metric_crs : str
        The CRS the metres are in.  Eastings carry no zone number, so this
        cannot be told from the data: the default, EPSG:4550 (:data:`METRIC`,
        Lingxiao's zone), only suits 121.5-124.5°E.  Pass the CRS the
        coordinates were projected with.

    Returns
    -------
    lon, lat : float64 ndarrays of the broadcast shape.

    Raises
    ------
    CoordinateError
        Naming the first non-finite easting or northing.
    """
    e, n = np.broadcast_arrays(*_arrays(x, y))
    _first_bad("easting", e, ~np.isfinite(e), "non-finite")
    _first_bad("northing", n, ~np.isfinite(n), "non-finite")
    lon, lat = _arrays(*_transformer(metric_crs, WGS84).transform(e, n))
    return lon.reshape(e.shape), lat.reshape(e.shape)
