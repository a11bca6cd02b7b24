"""A planner's parking question answered: coverage now against a proposal.

*Current* is the open facilities as they stand.  The *proposal* is a
scenario: current or with the planned facilities, less those removed, plus
those added.  Both are measured on the same demand with the same distances
rules, at the chosen radius and along the radii of the coverage curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from gis.coverage import (
    CURVE_RADII,
    SERVICE_DISTANCES,
    WALK,
    Coverage,
    CoverageInputError,
    analysis_crs,
    coverage,
    coverage_curve,
    demand_points,
    reach,
    scenario,
    service_areas,
)
from gis.network import WalkingNetwork
from gis.siting import Siting, maximal_cover, minimal_cover

SCENARIO_CURRENT = "current"
SCENARIO_PLANNED = "planned"
SCENARIOS = (SCENARIO_CURRENT, SCENARIO_PLANNED)
MAX_RADIUS_M = 2000.0


@dataclass(frozen=True)
class ParkingQuestion:
    """What the planner asks: radius, distance kind, scenario and its changes."""

    radius_m: float = 300.0
    mode: str = WALK
    scenario: str = SCENARIO_CURRENT
    remove: tuple[str, ...] = ()
    add: gpd.GeoDataFrame | None = field(default=None, compare=False)
    cars_per_household: float = 1.0

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise CoverageInputError(
                f"scenario {self.scenario!r} is not one of {', '.join(SCENARIOS)}"
            )
        if not 0 < self.radius_m <= MAX_RADIUS_M:
            raise CoverageInputError(
                f"radius {self.radius_m:g} m is outside 1 to {MAX_RADIUS_M:g} m"
            )


@dataclass(frozen=True)
class ParkingAnswer:
    """Coverage before (current) and after (the proposal), the curve, the service areas."""

    question: ParkingQuestion
    before: Coverage
    after: Coverage
    curve: pd.DataFrame
    service_areas: gpd.GeoDataFrame
    search_m: float  # distances were searched to here; beyond, "none within"


def analyse(
    network: WalkingNetwork | None,
    buildings: gpd.GeoDataFrame,
    parking: gpd.GeoDataFrame,
    question: ParkingQuestion,
    radii: Sequence[float] = CURVE_RADII,
    distances: Sequence[float] = SERVICE_DISTANCES,
    *,
    metric_crs: str | None = None,
) -> ParkingAnswer:
    """Coverage of the current facilities and of the proposal, for one question.

    The curve has ``radius_m`` and, for each figure, a ``current_`` and a
    ``proposed_`` column.  Both are measured in ``metric_crs``, by default the
    network's CRS or else the zone of the buildings' and current facilities'
    centre (:func:`gis.coverage.analysis_crs`).
    """
    q = question
    demand = demand_points(buildings, q.cars_per_household)
    current = scenario(parking)
    proposed = scenario(parking, q.scenario == SCENARIO_PLANNED, q.remove, q.add)
    crs = analysis_crs(network, demand, current, metric_crs=metric_crs)
    limit = max(q.radius_m, *radii)
    found = {"current": reach(network, current, demand, q.mode, limit, metric_crs=crs)}
    unchanged = (
        q.scenario == SCENARIO_CURRENT and not q.remove and (q.add is None or not len(q.add))
    )
    found["proposed"] = (
        found["current"]
        if unchanged
        else reach(network, proposed, demand, q.mode, limit, metric_crs=crs)
    )
    curves = [
        coverage_curve(demand, facilities, found[name], radii)
        .set_index("radius_m")
        .add_prefix(f"{name}_")
        for name, facilities in (("current", current), ("proposed", proposed))
    ]
    return ParkingAnswer(
        question=q,
        before=coverage(demand, current, found["current"], q.radius_m),
        after=coverage(demand, proposed, found["proposed"], q.radius_m),
        curve=pd.concat(curves, axis=1).reset_index(),
        service_areas=service_areas(network, proposed, distances, q.mode, metric_crs=crs),
        search_m=limit,
    )


def choose_sites(
    network: WalkingNetwork | None,
    buildings: gpd.GeoDataFrame,
    parking: gpd.GeoDataFrame,
    question: ParkingQuestion,
    candidates: gpd.GeoDataFrame,
    p: int = 1,
    problem: str = "mclp",
    *,
    metric_crs: str | None = None,
) -> Siting:
    """New sites for the question's scenario: ``p`` by MCLP, or the fewest by LSCP.

    ``metric_crs`` is as for :func:`gis.siting.maximal_cover`.
    """
    q = question
    demand = demand_points(buildings, q.cars_per_household)
    existing = scenario(parking, q.scenario == SCENARIO_PLANNED, q.remove, q.add)
    args = (network, demand, existing, candidates, q.radius_m)
    if problem == "mclp":
        return maximal_cover(*args, p, q.mode, metric_crs=metric_crs)
    if problem == "lscp":
        return minimal_cover(*args, q.mode, metric_crs=metric_crs)
    raise CoverageInputError(f"problem {problem!r} is not one of mclp, lscp")
