"""Attach each point of a layer to its grid and business district."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis import crs as gcrs
from gis.index import AreaIndex


class NotPointsError(ValueError):
    """The layer to join holds geometries other than points."""


def join_areas(
    points: gpd.GeoDataFrame,
    grids: AreaIndex | gpd.GeoDataFrame,
    districts: AreaIndex | gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Add ``grid_code``, ``district_code`` and ``in_community`` to a point layer.

    Parameters
    ----------
    points : GeoDataFrame
        Point features in any CRS; the result keeps their CRS, index and order.
    grids, districts : AreaIndex or GeoDataFrame
        WGS84 areas (or a prebuilt index over them, to join many layers).

    Returns
    -------
    GeoDataFrame
        A copy of ``points`` with the new columns.  Points outside every grid
        keep a ``None`` grid code and ``in_community`` False; none are dropped.
        Points on an edge shared by two grids go to the lower code.
    """
    geoms = points.geometry.values
    kinds = shapely.get_type_id(geoms)
    if len(geoms) and not np.all(kinds == shapely.GeometryType.POINT):
        bad = points.index[kinds != shapely.GeometryType.POINT][0]
        raise NotPointsError(f"row {bad!r} is not a point; join_areas takes points only")
    wgs = points.geometry if points.crs is None else points.geometry.to_crs(gcrs.WGS84)
    x, y = wgs.x.to_numpy(), wgs.y.to_numpy()
    out = points.copy()
    grid_index = _as_index(grids)
    grid_pos = grid_index.locate_many(x, y)
    out["grid_code"] = pd.Series(grid_index.codes_of(grid_pos), index=out.index, dtype=object)
    out["in_community"] = grid_pos >= 0
    if districts is not None:
        district_index = _as_index(districts)
        codes = district_index.codes_of(district_index.locate_many(x, y))
        out["district_code"] = pd.Series(codes, index=out.index, dtype=object)
    else:
        out["district_code"] = None
    return out


def _as_index(areas: AreaIndex | gpd.GeoDataFrame) -> AreaIndex:
    if isinstance(areas, AreaIndex):
        return areas
    return AreaIndex.from_frame(areas.to_crs(gcrs.WGS84))
