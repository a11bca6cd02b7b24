"""Parking coverage: which homes a set of car parks serves on foot, and how well.

Demand is the residential buildings, weighted by households and by cars
(households × cars per household).  Supply is parking facilities with their
spaces, smart or not, open or planned.  A building is *covered* when some
facility lies within the walking radius of it, measured along the street
network (snap offsets walked too) or, for comparison, in a straight line.

The facility-to-building distances are computed once per scenario
(:func:`reach`) with the searches bounded at the largest radius asked about,
and every figure, for any radius up to that bound, is read off them
(:func:`coverage`, :func:`coverage_curve`).  Spaces are weighed against demand
with the two-step floating catchment: each facility's spaces are shared among
the cars within its radius, and each building sums the shares it can reach.

Distances are measured in one metric CRS per analysis (:func:`analysis_crs`):
the one given, else the network's own, else the zone of the data's centre.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS

from gis.crs import METRIC, WGS84, from_metric, metric_crs_of, to_metric
from gis.network import STRAIGHT_LINE, Snapped, WalkingNetwork, straight_matrix

WALK = "walk"
MODES = (WALK, STRAIGHT_LINE)
FACILITY_OPEN = "open"
FACILITY_PLANNED = "planned"
STATUSES = (FACILITY_OPEN, FACILITY_PLANNED)
SERVICE_DISTANCES = (150.0, 300.0, 500.0)
CURVE_RADII = tuple(float(r) for r in range(100, 801, 50))
FRONTAGE_M = 40.0
FloatArray = npt.NDArray[np.float64]


class CoverageInputError(ValueError):
    """A building or facility layer, or a what-if, that cannot be analysed."""


def demand_points(buildings: gpd.GeoDataFrame, cars_per_household: float = 1.0) -> gpd.GeoDataFrame:
    """One point per residential building with its households and cars.

    Points are the layer's own when it holds entrances (points), otherwise a
    point inside each footprint: unlike the centroid it is never outside an
    L-shaped block.  A ``cars_per_household`` column, where present and
    filled, overrides the default for its building.

    Returns
    -------
    GeoDataFrame
        ``id``, ``households``, ``cars`` and point geometry in WGS84.
    """
    _need(buildings, ("id", "households"), "buildings")
    if not np.isfinite(cars_per_household) or cars_per_household < 0:
        raise CoverageInputError(
            f"cars per household must be a number of 0 or more, not {cars_per_household!r}"
        )
    frame = buildings.to_crs(WGS84) if buildings.crs is not None else buildings
    households = _numbers(frame, "households", "buildings")
    rate = np.full(len(frame), float(cars_per_household))
    if "cars_per_household" in frame:
        own = pd.to_numeric(frame["cars_per_household"], errors="coerce").to_numpy(dtype=float)
        rate = np.where(np.isnan(own), rate, own)
        _check_non_negative(frame, rate, "cars_per_household", "buildings")
    geoms = frame.geometry.values
    points = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
    return gpd.GeoDataFrame(
        {
            "id": frame["id"].astype(str).to_numpy(),
            "households": households,
            "cars": households * rate,
        },
        geometry=points,
        crs=WGS84,
    )


def supply_points(parking: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Parking facilities, checked: spaces, smart or not, open or planned, occupancy.

    ``smart`` defaults to false and ``status`` to open; ``occupancy`` (spaces
    taken now) is optional and left empty where unknown.
    """
    _need(parking, ("id", "capacity"), "parking")
    frame = parking.to_crs(WGS84) if parking.crs is not None else parking
    bad = frame.geometry.is_empty | frame.geometry.isna() | (frame.geometry.geom_type != "Point")
    if bad.any():
        raise CoverageInputError(
            f"parking facility {frame['id'].iloc[int(np.argmax(bad))]!r} needs a point geometry"
        )
    ids = frame["id"].astype(str)
    if ids.duplicated().any():
        raise CoverageInputError(f"parking facility id {ids[ids.duplicated()].iloc[0]!r} repeats")
    capacity = _numbers(frame, "capacity", "parking")
    status = (
        frame["status"].fillna(FACILITY_OPEN).astype(str).to_numpy()
        if "status" in frame
        else np.full(len(frame), FACILITY_OPEN)
    )
    unknown = ~np.isin(status, STATUSES)
    if unknown.any():
        i = int(np.argmax(unknown))
        raise CoverageInputError(
            f"parking facility {ids.iloc[i]!r} has status {status[i]!r}; "
            f"use one of {', '.join(STATUSES)}"
        )
    occupancy = (
        pd.to_numeric(frame["occupancy"], errors="coerce").to_numpy(dtype=float)
        if "occupancy" in frame
        else np.full(len(frame), np.nan)
    )
    over = ~np.isnan(occupancy) & ((occupancy < 0) | (occupancy > capacity))
    if over.any():
        i = int(np.argmax(over))
        raise CoverageInputError(
            f"parking facility {ids.iloc[i]!r} reports {occupancy[i]:g} spaces taken "
            f"of {capacity[i]:g}"
        )
    return gpd.GeoDataFrame(
        {
            "id": ids.to_numpy(),
            "name": frame["name"].astype(str).to_numpy() if "name" in frame else ids.to_numpy(),
            "capacity": capacity,
            "smart": _flags(frame["smart"]) if "smart" in frame else np.zeros(len(frame), bool),
            "status": status,
            "occupancy": occupancy,
        },
        geometry=frame.geometry.values,
        crs=WGS84,
    )


def scenario(
    parking: gpd.GeoDataFrame,
    include_planned: bool = False,
    remove: Iterable[str] = (),
    add: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The facilities of a what-if: the open ones, with the planned ones if asked,
    less those removed, plus those added (checked as :func:`supply_points`).
    """
    facilities = supply_points(parking)
    gone = set(map(str, remove))
    unknown = gone - set(facilities["id"])
    if unknown:
        raise CoverageInputError(
            f"no parking facility {sorted(unknown)[0]!r} to remove; known: "
            + ", ".join(facilities["id"])
        )
    keep = ~facilities["id"].isin(gone)
    if not include_planned:
        keep &= facilities["status"] == FACILITY_OPEN
    parts = [facilities[keep]]
    if add is not None and len(add):
        parts.append(supply_points(add))
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=WGS84)
    if out["id"].duplicated().any():
        raise CoverageInputError(
            f"an added facility reuses the id {out['id'][out['id'].duplicated()].iloc[0]!r}"
        )
    return out


def analysis_crs(
    network: WalkingNetwork | None,
    *layers: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None,
    metric_crs: str | None = None,
) -> str:
    """The metric CRS to measure WGS84 layers in, on ``network`` if there is one.

    Parameters
    ----------
    network : WalkingNetwork or None
        Its :attr:`~gis.network.WalkingNetwork.metric_crs`, when known, is the
        answer (the layers must be projected onto its grid).
    *layers : GeoDataFrame, GeoSeries or shapely geometry, WGS84
        The data measured; ``None`` entries are skipped.
    metric_crs : str, optional
        The community's CRS.  Given, it is the answer, and it must agree with
        the network's.

    Returns
    -------
    str
        ``metric_crs``, else the network's CRS, else the zone of the layers'
        centre (:func:`gis.crs.metric_crs_of`; EPSG:4550 for Lingxiao).  With no
        coordinates at all any zone gives the same empty answer: EPSG:4550.

    Raises
    ------
    CoverageInputError
        When ``metric_crs`` and the network's CRS differ.
    gis.crs.MetricZoneError
        When the CRS falls to the layers and they lie outside China's zones.
    """
    own = network.metric_crs if network is not None else None
    if metric_crs is not None:
        if own is not None and not CRS.from_user_input(own).equals(metric_crs):
            raise CoverageInputError(
                f"the walking network is in {own}, not {metric_crs}; "
                "build it with the same metric CRS"
            )
        return metric_crs
    if own is not None:
        return own
    geoms = [
        np.atleast_1d(np.asarray(getattr(layer, "geometry", layer), dtype=object))
        for layer in layers
        if layer is not None
    ]
    return metric_crs_of(np.concatenate(geoms) if geoms else np.array([], dtype=object), METRIC)


@dataclass(frozen=True)
class Reach:
    """Metres from each facility (rows) to each building (columns), ``inf`` beyond ``limit_m``."""

    metres: FloatArray
    walked: npt.NDArray[np.bool_]
    mode: str
    limit_m: float


def reach(
    network: WalkingNetwork | None,
    facilities: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    mode: str = WALK,
    limit_m: float = max(CURVE_RADII),
    *,
    metric_crs: str | None = None,
) -> Reach:
    """Distances from every facility to every building, up to ``limit_m``.

    ``mode`` is ``"walk"`` (along ``network``; straight lines where there is no
    network or a point lies too far from any street) or ``"straight_line"``.
    Metres are measured in ``metric_crs``, by default the network's CRS or
    else the zone of the facilities' and buildings' centre (:func:`analysis_crs`).
    """
    if mode not in MODES:
        raise CoverageInputError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    crs = analysis_crs(network, facilities, demand, metric_crs=metric_crs)
    fx, fy = _xy(facilities, crs)
    bx, by = _xy(demand, crs)
    if mode == WALK and network is not None and len(fx) and len(bx):
        found = network.matrix(fx, fy, bx, by, limit_m=limit_m)
    else:
        found = straight_matrix(fx, fy, bx, by)
        found.metres[found.metres > limit_m] = np.inf
    return Reach(found.metres, found.walked, mode, float(limit_m))


@dataclass(frozen=True)
class Coverage:
    """Per-building and per-facility results, and the headline figures."""

    buildings: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    figures: dict[str, float]


def coverage(
    demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, found: Reach, radius_m: float
) -> Coverage:
    """Who is covered within ``radius_m`` and how many spaces each car can count on.

    Buildings gain ``nearest`` (facility id, empty beyond the search limit),
    ``nearest_m``, ``covered``, ``smart_covered`` and ``spaces_per_car``;
    facilities gain ``households_served`` (homes whose nearest facility within
    the radius it is), ``households_within`` and ``cars_within`` (its whole
    catchment, shared with others).

    Figures: ``households_covered_share`` and ``smart_covered_share`` weigh
    buildings by households; ``spaces_per_demand`` is the spaces of facilities
    that reach at least one home within the radius over the cars of the
    covered homes, which is also the cars-weighted mean of ``spaces_per_car``
    over those homes.
    """
    _check_radius(radius_m, found)
    d = found.metres
    households = demand["households"].to_numpy(dtype=float)
    cars = demand["cars"].to_numpy(dtype=float)
    capacity = facilities["capacity"].to_numpy(dtype=float)
    smart = facilities["smart"].to_numpy(dtype=bool)
    ids = facilities["id"].to_numpy(dtype=object)
    within = d <= radius_m
    nearest_m = d.min(axis=0, initial=np.inf)
    which = d.argmin(axis=0) if len(ids) else np.zeros(len(demand), dtype=np.int64)
    reached = np.isfinite(nearest_m)
    covered = nearest_m <= radius_m
    smart_m = d[smart].min(axis=0, initial=np.inf)
    cars_within = within.astype(float) @ cars
    share = np.divide(capacity, cars_within, out=np.zeros_like(capacity), where=cars_within > 0)
    spaces_per_car = within.T.astype(float) @ share
    served = np.bincount(which[covered], weights=households[covered], minlength=len(ids))

    buildings = demand.copy()
    buildings["nearest"] = np.where(reached, ids[which] if len(ids) else None, None)
    buildings["nearest_m"] = np.where(reached, nearest_m, np.nan)
    buildings["covered"] = covered
    buildings["smart_covered"] = smart_m <= radius_m
    buildings["spaces_per_car"] = spaces_per_car
    out = facilities.copy()
    out["households_served"] = served
    out["households_within"] = within.astype(float) @ households
    out["cars_within"] = cars_within
    figures = _figures(households, cars, covered, smart_m <= radius_m, capacity, cars_within)
    free = capacity - facilities["occupancy"].to_numpy(dtype=float)
    if len(free) and not np.isnan(free).any():
        covered_cars = cars[covered].sum()
        figures["free_spaces_per_demand"] = (
            float(free[cars_within > 0].sum() / covered_cars) if covered_cars else 0.0
        )
    figures["radius_m"] = float(radius_m)
    figures["median_nearest_m"] = (
        float(np.median(nearest_m[reached])) if reached.any() else float("nan")
    )
    return Coverage(buildings, out, figures)


def coverage_curve(
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    found: Reach,
    radii: Sequence[float] = CURVE_RADII,
) -> pd.DataFrame:
    """The headline figures at each of ``radii``, for a chart of coverage against radius."""
    r = np.asarray(radii, dtype=float)
    _check_radius(float(r.max(initial=0.0)), found)
    households = demand["households"].to_numpy(dtype=float)
    cars = demand["cars"].to_numpy(dtype=float)
    capacity = facilities["capacity"].to_numpy(dtype=float)
    smart = facilities["smart"].to_numpy(dtype=bool)
    d = found.metres
    nearest = d.min(axis=0, initial=np.inf)
    smart_nearest = d[smart].min(axis=0, initial=np.inf)
    # a facility counts its spaces from the radius at which it first reaches a car
    first_car = np.where(cars[None, :] > 0, d, np.inf).min(axis=1, initial=np.inf)
    total_h = households.sum()
    covered = nearest[None, :] <= r[:, None]
    smart_cov = smart_nearest[None, :] <= r[:, None]
    spaces = (first_car[None, :] <= r[:, None]).astype(float) @ capacity
    covered_cars = covered.astype(float) @ cars
    return pd.DataFrame(
        {
            "radius_m": r,
            "households_covered_share": _ratio(covered.astype(float) @ households, total_h),
            "smart_covered_share": _ratio(smart_cov.astype(float) @ households, total_h),
            "spaces_per_demand": np.divide(
                spaces, covered_cars, out=np.zeros_like(spaces), where=covered_cars > 0
            ),
        }
    )


def service_areas(
    network: WalkingNetwork | None,
    facilities: gpd.GeoDataFrame,
    distances: Sequence[float] = SERVICE_DISTANCES,
    mode: str = WALK,
    frontage_m: float = FRONTAGE_M,
    *,
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Walking isochrones: the streets reachable within each distance, widened by the frontage.

    Each area is the part of the network a facility reaches within the
    distance (the walk to the street counted), buffered by ``frontage_m`` so
    that the homes along those streets fall inside.  In straight-line mode, or
    for a facility too far from any street, the area is a circle.  Areas are
    drawn in ``metric_crs``, by default the network's CRS or else the zone of
    the facilities' centre (:func:`analysis_crs`).

    Returns
    -------
    GeoDataFrame
        ``facility``, ``distance_m`` and polygon geometry in WGS84, one row per
        facility and distance, largest distance first so that smaller areas
        draw on top.
    """
    if mode not in MODES:
        raise CoverageInputError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    crs = analysis_crs(network, facilities, metric_crs=metric_crs)
    fx, fy = _xy(facilities, crs)
    ids = facilities["id"].to_numpy(dtype=object)
    rows: list[tuple[object, float, shapely.Geometry]] = []
    net = network if mode == WALK and len(fx) else None
    if net is not None:
        snapped = net.snap(fx, fy)
        node_m = net.reach(snapped, max(distances))
    for dist in sorted(distances, reverse=True):
        areas = shapely.buffer(shapely.points(fx, fy), dist)
        if net is not None:
            walked = _walked_areas(net, snapped, node_m, dist - snapped.offset, frontage_m)
            areas = np.where(snapped.offset <= net.max_snap_m, walked, areas)
        rows.extend(zip(ids, [dist] * len(ids), areas, strict=True))
    frame = pd.DataFrame(rows, columns=["facility", "distance_m", "geometry"])
    geoms = shapely.transform(
        frame["geometry"].to_numpy(),
        lambda xy: np.column_stack(from_metric(xy[:, 0], xy[:, 1], metric_crs=crs)),
    )
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=np.asarray(geoms), crs=WGS84)


def _walked_areas(
    network: WalkingNetwork,
    snapped: Snapped,
    node_m: FloatArray,
    budget: FloatArray,
    frontage_m: float,
) -> npt.NDArray[np.object_]:
    """Per facility, the street pieces within its walking budget, widened and merged."""
    start, end = network.node_xy[network.u], network.node_xy[network.v]
    length = network.length
    # from each end, the walkable share of every edge (facilities × edges)
    left = np.clip((budget[:, None] - node_m[:, network.u]) / length, 0, 1)
    right = np.clip((budget[:, None] - node_m[:, network.v]) / length, 0, 1)
    whole = left + right >= 1
    left = np.where(whole, 1.0, left)
    right = np.where(whole, 0.0, right)
    f_l, e_l = np.nonzero(left > 0)
    f_r, e_r = np.nonzero(right > 0)
    t_l, t_r = left[f_l, e_l][:, None], right[f_r, e_r][:, None]
    pieces = [
        np.stack([start[e_l], start[e_l] + (end[e_l] - start[e_l]) * t_l], axis=1),
        np.stack([end[e_r] - (end[e_r] - start[e_r]) * t_r, end[e_r]], axis=1),
    ]
    owner = [f_l, f_r]
    # the facility's own edge, walked both ways from where it joins
    e = snapped.edge
    own = budget > 0
    a = np.clip(snapped.to_u - budget, 0, length[e]) / length[e]
    b = np.clip(snapped.to_u + budget, 0, length[e]) / length[e]
    f_o = np.nonzero(own)[0]
    seg_start, seg_end = start[e[f_o]], end[e[f_o]]
    pieces.append(
        np.stack(
            [
                seg_start + (seg_end - seg_start) * a[f_o, None],
                seg_start + (seg_end - seg_start) * b[f_o, None],
            ],
            axis=1,
        )
    )
    owner.append(f_o)
    coords, index = np.concatenate(pieces), np.concatenate(owner)
    order = np.argsort(index, kind="stable")
    coords, index = coords[order], index[order]
    # widening each piece and merging is several times faster than widening one
    # multi-line of them all
    widened = shapely.buffer(shapely.linestrings(coords), frontage_m)
    bounds = np.searchsorted(index, np.arange(len(budget) + 1))
    return np.array(
        [shapely.union_all(widened[a:b]) for a, b in pairwise(bounds)],
        dtype=object,
    )


def _figures(
    households: FloatArray,
    cars: FloatArray,
    covered: npt.NDArray[np.bool_],
    smart_covered: npt.NDArray[np.bool_],
    capacity: FloatArray,
    cars_within: FloatArray,
) -> dict[str, float]:
    total_h, total_c = float(households.sum()), float(cars.sum())
    spaces_reaching = float(capacity[cars_within > 0].sum())
    return {
        "buildings": float(len(households)),
        "households": total_h,
        "cars": total_c,
        "facilities": float(len(capacity)),
        "spaces": float(capacity.sum()),
        "households_covered": float(households[covered].sum()),
        "households_covered_share": float(_ratio(households[covered].sum(), total_h)),
        "smart_households_covered": float(households[smart_covered].sum()),
        "smart_covered_share": float(_ratio(households[smart_covered].sum(), total_h)),
        "uncovered_buildings": float((~covered).sum()),
        "spaces_per_demand": float(_ratio(spaces_reaching, float(cars[covered].sum()))),
    }


def _ratio(part: npt.ArrayLike, whole: float) -> FloatArray:
    p = np.asarray(part, dtype=float)
    return p / whole if whole > 0 else np.zeros_like(p)


def _check_radius(radius_m: float, found: Reach) -> None:
    if not np.isfinite(radius_m) or radius_m <= 0:
        raise CoverageInputError(f"radius must be a positive number of metres, not {radius_m!r}")
    if radius_m > found.limit_m:
        raise CoverageInputError(
            f"radius {radius_m:g} m is beyond the {found.limit_m:g} m the distances were "
            "searched to"
        )


def _xy(frame: gpd.GeoDataFrame, metric_crs: str) -> tuple[FloatArray, FloatArray]:
    lon = shapely.get_x(frame.geometry.values)
    lat = shapely.get_y(frame.geometry.values)
    x, y = to_metric(lon, lat, metric_crs=metric_crs)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _need(frame: gpd.GeoDataFrame, columns: Sequence[str], layer: str) -> None:
    missing = [c for c in columns if c not in frame]
    if missing:
        raise CoverageInputError(f"the {layer} layer lacks the column(s) {', '.join(missing)}")


def _numbers(frame: gpd.GeoDataFrame, column: str, layer: str) -> FloatArray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    _check_non_negative(frame, values, column, layer)
    return values


def _check_non_negative(
    frame: gpd.GeoDataFrame, values: FloatArray, column: str, layer: str
) -> None:
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise CoverageInputError(
            f"{layer} {frame['id'].iloc[i]!r} has {column} {frame[column].iloc[i]!r}; "
            "it must be a number of 0 or more"
        )


def _flags(values: pd.Series) -> npt.NDArray[np.bool_]:
    text = values.astype(str).str.strip().str.lower()
    return np.asarray(text.isin(["true", "1", "yes", "y", "t"]), dtype=bool)
