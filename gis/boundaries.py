"""A community's boundaries: the community, its grids and business districts.

Grids must tile the community exactly: valid polygons, no overlap between
grids, no gap left uncovered, nothing outside the community.  Grid codes are 15
digits, the community's 12-digit code followed by a 3-digit sequence number
(GB/T 30428.1 unit-grid codes).  Areas are reported in square metres, measured
in a metric CRS: the one given, or the CGCS2000 3-degree zone of the
community's centre (:func:`gis.crs.metric_crs_of`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from gis import crs as gcrs
from gis.io import find_layer_file, read_layer_file
from gis.validate import Problem, Report, feature_labels, validate_layer

BOUNDARY_LAYERS = ("community", "grids", "districts")
AREA_TOLERANCE_M2 = 0.5  # slivers below this are digitising noise
GRID_CODE = re.compile(r"^\d{15}$")
COMMUNITY_CODE = re.compile(r"^\d{12}$")


@dataclass
class Boundaries:
    """The three boundary layers of one community, in WGS84."""

    community: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame | None = None


def load_boundaries(folder: str | Path, crs: str | None = None) -> Boundaries:
    """Read ``community``, ``grids`` and (optionally) ``districts`` from a folder."""
    folder = Path(folder)
    found = {name: find_layer_file(folder, name) for name in BOUNDARY_LAYERS}
    for name in ("community", "grids"):
        if found[name] is None:
            raise FileNotFoundError(
                f"{folder}: no {name} layer ({name}.geojson, .gpkg, .shp, .kml or .csv)"
            )
    districts = found["districts"]
    return Boundaries(
        community=read_layer_file(found["community"], crs),  # type: ignore[arg-type]
        grids=read_layer_file(found["grids"], crs),  # type: ignore[arg-type]
        districts=read_layer_file(districts, crs) if districts else None,
    )


def validate_boundaries(
    grids: gpd.GeoDataFrame,
    community: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    metric_crs: str | None = None,
) -> Report:
    """Every problem with a community's boundary layers.

    Parameters
    ----------
    grids, community, districts : GeoDataFrame
        WGS84 layers; ``community`` should have one feature.  Without it the
        grids are checked for overlaps and holes among themselves only.
    metric_crs : str, optional
        Projected CRS for areas.  By default the CGCS2000 3-degree zone of the
        community's centre (of the grids' without a community): EPSG:4550 for
        Lingxiao.  When that centre lies outside China's zones the tiling is
        not checked and the report says so (``no_metric_crs``).
    """
    report = Report()
    report.extend(validate_layer("grids", grids))
    report.extend(_code_problems(grids, community))
    if community is not None:
        report.extend(validate_layer("community", community))
        if len(community) > 1:
            report.extend(
                [
                    Problem(
                        "community",
                        "multiple_features",
                        f"has {len(community)} features, expected one",
                    )
                ]
            )
    if districts is not None:
        report.extend(validate_layer("districts", districts))
    if len(grids) and "coordinates_out_of_range" not in report.kinds():
        if metric_crs is None:
            outline = community if community is not None and len(community) else None
            try:
                metric_crs = gcrs.metric_crs_of(outline if outline is not None else grids)
            except gcrs.MetricZoneError as exc:
                layer = "community" if outline is not None else "grids"
                report.extend(
                    [
                        Problem(
                            layer,
                            "no_metric_crs",
                            f"areas not measured: {exc}; pass the metric CRS to use",
                        )
                    ]
                )
                return report
        report.extend(_tiling_problems(grids, community, metric_crs))
    return report


def _code_problems(grids: gpd.GeoDataFrame, community: gpd.GeoDataFrame | None) -> list[Problem]:
    if "code" not in grids.columns:
        return []
    prefix = None
    out = []
    if community is not None and "code" in community.columns and len(community):
        prefix = str(community["code"].iloc[0])
        if not COMMUNITY_CODE.match(prefix):
            out.append(
                Problem("community", "malformed_code", f"code {prefix!r} is not 12 digits", prefix)
            )
            prefix = None
    for code in grids["code"].dropna().astype(str):
        if not GRID_CODE.match(code):
            out.append(Problem("grids", "malformed_code", f"code {code!r} is not 15 digits", code))
        elif prefix and not code.startswith(prefix):
            out.append(
                Problem(
                    "grids",
                    "malformed_code",
                    f"code {code!r} does not start with the community code {prefix}",
                    code,
                )
            )
    return out


def _tiling_problems(
    grids: gpd.GeoDataFrame, community: gpd.GeoDataFrame | None, metric_crs: str
) -> list[Problem]:
    labels = np.array(feature_labels(grids, "code"), dtype=object)
    polys = _usable(grids.geometry.to_crs(metric_crs).values)
    keep = ~shapely.is_empty(polys)
    polys, labels = polys[keep], labels[keep]
    out: list[Problem] = []

    tree = shapely.STRtree(polys)
    left, right = tree.query(polys, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    shared = shapely.area(shapely.intersection(polys[left], polys[right]))
    for i, j, area in zip(left, right, shared, strict=True):
        if area > AREA_TOLERANCE_M2:
            out.append(
                Problem(
                    "grids",
                    "overlap",
                    f"overlaps {labels[j]} by {area:,.1f} m²",
                    labels[i],
                    float(area),
                )
            )

    union = shapely.union_all(polys)
    if community is not None and len(community):
        outline = shapely.union_all(_usable(community.geometry.to_crs(metric_crs).values))
        for i, spill in enumerate(shapely.area(shapely.difference(polys, outline))):
            if spill > AREA_TOLERANCE_M2:
                out.append(
                    Problem(
                        "grids",
                        "outside_community",
                        f"extends {spill:,.1f} m² outside the community",
                        labels[i],
                        float(spill),
                    )
                )
        holes = shapely.get_parts(shapely.difference(outline, union))
    else:
        filled = shapely.union_all(
            shapely.polygons(shapely.get_exterior_ring(shapely.get_parts(union)))
        )
        holes = shapely.get_parts(shapely.difference(filled, union))
    for hole in holes:
        area = float(shapely.area(hole))
        if area > AREA_TOLERANCE_M2:
            where = gpd.GeoSeries([hole.representative_point()], crs=metric_crs).to_crs(gcrs.WGS84)
            lon, lat = where.x.iloc[0], where.y.iloc[0]
            out.append(
                Problem(
                    "grids",
                    "gap",
                    f"gap of {area:,.1f} m² not covered by any grid near "
                    f"({float(lon):.6f}, {float(lat):.6f})",
                    None,
                    area,
                )
            )
    return out


def _usable(geoms: np.ndarray) -> np.ndarray:
    """Repair invalid polygons so that areas can still be measured."""
    geoms = geoms.copy()
    geoms[shapely.is_missing(geoms)] = shapely.Polygon()
    return np.asarray(shapely.make_valid(geoms))
