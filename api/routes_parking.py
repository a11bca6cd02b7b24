"""Parking planning endpoints: coverage of a scenario, and where new sites should go."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import require
from api.deps import SessionDep, SnapshotDep
from api.errors import responses
from cases.lifecycle import Role
from gis.coverage import WALK
from gis.parking import MAX_RADIUS_M, SCENARIO_CURRENT
from service import parking as use
from service.models import ParkingCoverage, ParkingSites
from service.parking import Crs, SitesIn
from store.issues import Actor

router = APIRouter(prefix="/api/v1/parking", tags=["parking"])
PLANNERS = (Role.PLANNER, Role.MANAGER, Role.ADMIN)
PlannerDep = Annotated[Actor, Depends(require(*PLANNERS))]


@router.get("/coverage", responses=responses(401, 403, 409, 422, 503))
def parking_coverage(
    session: SessionDep,
    snapshot: SnapshotDep,
    _: PlannerDep,
    radius_m: Annotated[float, Query(gt=0, le=MAX_RADIUS_M, description="walking radius")] = 300.0,
    mode: Annotated[str, Query(description="walk or straight_line")] = WALK,
    scenario: Annotated[
        str, Query(description="current, or planned (open and planned)")
    ] = SCENARIO_CURRENT,
    remove: Annotated[str, Query(description="facility ids to leave out, comma-separated")] = "",
    add: Annotated[
        list[str] | None,
        Query(description="a facility to add: 'lon,lat,capacity[,smart]'; repeat for more"),
    ] = None,
    crs: Annotated[Crs, Query(description="CRS of the added facilities")] = "wgs84",
    cars_per_household: Annotated[float, Query(ge=0, le=10)] = 1.0,
    suggest: Annotated[int, Query(ge=0, le=20, description="new sites to suggest (MCLP)")] = 0,
) -> ParkingCoverage:
    """Households covered by parking within the radius, now and in the scenario.

    ``figures`` are the scenario's, ``before`` the open facilities' as they
    stand; ``curve`` gives both from 100 to 800 m; ``layers`` are GeoJSON.
    """
    query = use.CoverageQuery(
        radius_m, mode, scenario, remove, tuple(add or ()), crs, cars_per_household, suggest
    )
    return use.parking_coverage(session, snapshot, query)


@router.post("/sites", responses=responses(401, 403, 409, 422, 503))
def parking_sites(
    body: SitesIn, session: SessionDep, snapshot: SnapshotDep, _: PlannerDep
) -> ParkingSites:
    """Choose new sites: the ``p`` that cover most households (MCLP), and the
    fewest that cover every reachable home (LSCP), with the coverage each reaches.
    """
    return use.parking_sites(session, snapshot, body)
