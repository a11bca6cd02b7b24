"""Points as people send them: checked, then turned into WGS84, with one error code."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from gis.crs import CoordinateError, to_wgs84
from service.errors import Invalid

BAD_COORDINATES = "coordinate_out_of_range"
FloatArray = npt.NDArray[np.float64]


def wgs84_points(
    lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str = "wgs84", what: str = ""
) -> tuple[FloatArray, FloatArray]:
    """Longitudes and latitudes given in ``crs`` (wgs84, gcj02, bd09), in WGS84.

    Raises
    ------
    Invalid
        ``coordinate_out_of_range``, naming the bad value (and ``what`` it was,
        when given), for a value that is not a finite longitude/latitude or a
        CRS that cannot be read.
    """
    try:
        return to_wgs84(lon, lat, crs)  # checks the ranges first
    except (CoordinateError, ValueError) as exc:
        prefix = f"{what}: " if what else ""
        raise Invalid(BAD_COORDINATES, f"{prefix}{exc}") from exc


def wgs84_point(lon: float, lat: float, crs: str = "wgs84", what: str = "") -> tuple[float, float]:
    """One point given in ``crs``, in WGS84; see :func:`wgs84_points`."""
    wlon, wlat = wgs84_points(lon, lat, crs, what)
    return float(wlon), float(wlat)
