"""Where the next car park should go: maximal covering and set covering on foot.

Both problems are solved with PySAL's spopt over a cost matrix of walking
metres (homes × sites), the existing facilities entering as sites that must
stay.  The maximal covering location problem (MCLP) picks ``p`` new sites that
cover the most households; the location set covering problem (LSCP) finds the
fewest new sites that cover every home any site can reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gis.coverage import WALK, CoverageInputError, analysis_crs, reach
from gis.crs import WGS84, from_metric
from gis.network import WalkingNetwork


class SitingError(RuntimeError):
    """The solver found no answer (it should not, for a well-posed problem)."""


@dataclass(frozen=True)
class Siting:
    """The sites chosen and the coverage they reach.

    ``covered_before`` and ``covered_after`` are household shares with the
    existing facilities alone and with the chosen sites added;
    ``unreachable_households`` are those no site, existing or candidate,
    reaches within the radius (the set cover leaves them out).
    """

    problem: str
    chosen: gpd.GeoDataFrame
    covered_before: float
    covered_after: float
    unreachable_households: float


def network_sites(
    network: WalkingNetwork,
    spacing_m: float = 100.0,
    area: shapely.Geometry | None = None,
    *,
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Candidate sites along the streets, about every ``spacing_m`` metres.

    Each street piece gets ``ceil(length / spacing_m)`` sites at the middles of
    equal parts; ``area`` (WGS84) keeps only the sites inside it.

    Parameters
    ----------
    network : WalkingNetwork
        The streets, in metres.
    spacing_m : float
        Metres between sites along a street.
    area : shapely geometry, optional
        WGS84 area the sites must lie in.
    metric_crs : str, optional
        The CRS of the network's metres, to place the sites in WGS84.  By
        default the network's own (set by ``WalkingNetwork.from_frame``), or
        for a network built from bare lines the zone of ``area``'s centre.

    Raises
    ------
    CoverageInputError
        For a spacing that is not a positive number, a ``metric_crs`` other
        than the network's, or a network whose CRS is unknown with neither
        ``metric_crs`` nor ``area`` to tell it.
    """
    if not np.isfinite(spacing_m) or spacing_m <= 0:
        raise CoverageInputError(f"site spacing must be a positive number, not {spacing_m!r}")
    crs = _network_crs(network, area, metric_crs)
    count = np.ceil(network.length / spacing_m).astype(np.int64)
    edge = np.repeat(np.arange(network.n_edges), count)
    start = np.cumsum(count) - count
    part = np.arange(len(edge)) - np.repeat(start, count)
    t = ((part + 0.5) / np.repeat(count, count))[:, None]
    a, b = network.node_xy[network.u[edge]], network.node_xy[network.v[edge]]
    xy = a + (b - a) * t
    lon, lat = from_metric(xy[:, 0], xy[:, 1], metric_crs=crs)
    points = shapely.points(lon, lat)
    if area is not None:
        points = points[shapely.contains(area, points)]
    ids = [f"S{i + 1:04d}" for i in range(len(points))]
    return gpd.GeoDataFrame({"id": ids}, geometry=points, crs=WGS84)


def maximal_cover(
    network: WalkingNetwork | None,
    demand: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    radius_m: float,
    p: int,
    mode: str = WALK,
    *,
    metric_crs: str | None = None,
) -> Siting:
    """Choose ``p`` of ``candidates`` that, with ``existing``, cover the most households (MCLP).

    Metres are measured in ``metric_crs``, by default the network's CRS or
    else the zone of the sites' and homes' centre (``gis.coverage.analysis_crs``).
    """
    if p < 1 or p > len(candidates):
        raise CoverageInputError(
            f"cannot choose {p} sites from {len(candidates)} candidates; "
            f"ask for 1 to {len(candidates)}"
        )
    from spopt.locate import MCLP

    costs, households, keep = _problem(
        network, demand, existing, candidates, radius_m, mode, metric_crs
    )
    model = MCLP.from_cost_matrix(
        costs,
        households,
        service_radius=radius_m,
        p_facilities=len(existing) + p,
        predefined_facilities_arr=keep,
        name="gridgov-mclp",
    )
    return _result("mclp", model, costs, households, existing, candidates, radius_m)


def minimal_cover(
    network: WalkingNetwork | None,
    demand: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    radius_m: float,
    mode: str = WALK,
    *,
    metric_crs: str | None = None,
) -> Siting:
    """The fewest ``candidates`` that, with ``existing``, cover every reachable home (LSCP).

    Homes no site can reach are left out of the problem (else it has no
    solution) and reported as ``unreachable_households``.  ``metric_crs`` is as
    for :func:`maximal_cover`.
    """
    from spopt.locate import LSCP

    costs, households, keep = _problem(
        network, demand, existing, candidates, radius_m, mode, metric_crs
    )
    reachable = (costs <= radius_m).any(axis=1) & (households > 0)
    model = LSCP.from_cost_matrix(
        costs[reachable],
        service_radius=radius_m,
        predefined_facilities_arr=keep,
        name="gridgov-lscp",
    )
    return _result("lscp", model, costs, households, existing, candidates, radius_m)


def _problem(
    network: WalkingNetwork | None,
    demand: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    radius_m: float,
    mode: str,
    metric_crs: str | None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Homes × sites walking metres (existing first), households, and which sites must stay."""
    if not np.isfinite(radius_m) or radius_m <= 0:
        raise CoverageInputError(f"radius must be a positive number of metres, not {radius_m!r}")
    if not len(candidates):
        raise CoverageInputError("no candidate sites to choose from")
    sites = gpd.GeoDataFrame(
        geometry=np.concatenate([existing.geometry.values, candidates.geometry.values]),
        crs=WGS84,
    )
    costs = reach(network, sites, demand, mode, limit_m=radius_m, metric_crs=metric_crs).metres.T
    keep = np.r_[np.ones(len(existing), np.int64), np.zeros(len(candidates), np.int64)]
    return costs, demand["households"].to_numpy(dtype=float), keep


def _network_crs(
    network: WalkingNetwork, area: shapely.Geometry | None, metric_crs: str | None
) -> str:
    """The CRS of the network's metres: given, the network's own, or the area's zone."""
    unknown = metric_crs is None and network.metric_crs is None
    if unknown and (area is None or shapely.is_empty(area)):
        raise CoverageInputError(
            "the walking network does not say its metric CRS: pass metric_crs "
            "(or build the network with WalkingNetwork.from_frame)"
        )
    return analysis_crs(network, area, metric_crs=metric_crs)


def _result(
    problem: str,
    model: object,
    costs: npt.NDArray[np.float64],
    households: npt.NDArray[np.float64],
    existing: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    radius_m: float,
) -> Siting:
    import pulp

    model.solve(pulp.HiGHS(msg=False))  # type: ignore[attr-defined]
    status = pulp.LpStatus[model.problem.status]  # type: ignore[attr-defined]
    if status != "Optimal":
        raise SitingError(f"the {problem.upper()} solver ended {status!r}")
    chosen = np.array([(v.value() or 0) > 0.5 for v in model.fac_vars])  # type: ignore[attr-defined]
    within = costs <= radius_m
    n = len(existing)
    total = households.sum()
    before = households[within[:, :n].any(axis=1)].sum()
    after = households[within[:, chosen].any(axis=1)].sum()
    unreachable = households[~within.any(axis=1)].sum()
    picked = candidates[chosen[n:]].copy()
    fresh = ~within[:, :n].any(axis=1)
    gain = households[fresh] @ within[fresh][:, n:][:, chosen[n:]]
    picked["new_households"] = np.asarray(gain, dtype=float)
    return Siting(
        problem=problem,
        chosen=gpd.GeoDataFrame(pd.DataFrame(picked), crs=WGS84),
        covered_before=float(before / total) if total else 0.0,
        covered_after=float(after / total) if total else 0.0,
        unreachable_households=float(unreachable),
    )
