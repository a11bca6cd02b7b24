"""GeoJSON from GeoDataFrames, and the bounding boxes that select them."""

from __future__ import annotations

from typing import Any

import geopandas as gpd

from service.errors import Malformed


def feature_collection(frame: gpd.GeoDataFrame, **members: Any) -> dict[str, Any]:
    """A FeatureCollection dict, with extra top-level members such as ``total``."""
    if len(frame) == 0:
        return {"type": "FeatureCollection", "features": [], **members}
    collection = frame.to_geo_dict(drop_id=True)
    return {**collection, **members}


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``minlon,minlat,maxlon,maxlat`` to a tuple, or ``Malformed`` saying what is wrong."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or not all(v == v for v in values):
        raise Malformed(
            "bad_bbox",
            f"bbox {text!r} must be four numbers: "
            "min longitude, min latitude, max longitude, max latitude",
        )
    xmin, ymin, xmax, ymax = values
    if not (-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90):
        raise Malformed(
            "bad_bbox",
            f"bbox {text!r} is out of range or its minimum "
            "exceeds its maximum (longitude -180..180, latitude -90..90)",
        )
    return xmin, ymin, xmax, ymax
