"""Parking planning use cases: coverage of a scenario, and where new sites should go."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from gis.coverage import MODES, WALK, CoverageInputError
from gis.crs import WGS84
from gis.distance import distance_to_m
from gis.parking import (
    MAX_RADIUS_M,
    SCENARIO_CURRENT,
    SCENARIOS,
    ParkingAnswer,
    ParkingQuestion,
    analyse,
    choose_sites,
)
from gis.siting import Siting, SitingError, network_sites
from service.community import CommunitySnapshot
from service.errors import Conflict, Failed, Invalid
from service.models import ParkingCoverage, ParkingSites
from service.parking_view import answer_view, siting_view
from service.place import wgs84_points
from service.schemas import Text
from store.layers import read_layer

NEAR_COMMUNITY_M = 200.0  # a proposed lot may sit on a boundary street
MAX_ADDED = 50
MAX_CANDIDATES = 2000
Crs = Literal["wgs84", "gcj02", "bd09"]


class FacilityIn(BaseModel):
    """A facility a planner proposes to add."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    id: Text = Field(min_length=1, max_length=40)
    name: Text | None = Field(default=None, max_length=80)
    lon: float
    lat: float
    capacity: int = Field(ge=0, le=100_000)
    smart: bool = False


class SiteIn(BaseModel):
    """A candidate site a planner has drawn."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    id: Text | None = Field(default=None, max_length=40)
    lon: float
    lat: float


class SitesIn(BaseModel):
    """Which sites to choose: the scenario they join, the candidates, how many."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    radius_m: float = Field(default=300.0, gt=0, le=MAX_RADIUS_M)
    mode: Literal["walk", "straight_line"] = "walk"
    scenario: Literal["current", "planned"] = "current"
    remove: list[Text] = Field(default_factory=list, max_length=MAX_ADDED)
    add: list[FacilityIn] = Field(default_factory=list, max_length=MAX_ADDED)
    crs: Crs = "wgs84"
    candidates: list[SiteIn] | None = Field(
        default=None,
        max_length=MAX_CANDIDATES,
        description="sites to choose from; without them, sites every spacing_m along the streets",
    )
    spacing_m: float = Field(default=100.0, ge=20, le=1000)
    p: int = Field(default=1, ge=1, le=20, description="how many new sites the MCLP picks")
    problem: Literal["mclp", "lscp", "both"] = "both"
    cars_per_household: float = Field(default=1.0, ge=0, le=10)


@dataclass(frozen=True)
class CoverageQuery:
    """A planner's coverage question, as the query string gives it."""

    radius_m: float = 300.0
    mode: str = WALK
    scenario: str = SCENARIO_CURRENT
    remove: str = ""
    add: tuple[str, ...] = ()
    crs: str = "wgs84"
    cars_per_household: float = 1.0
    suggest: int = 0


@dataclass(frozen=True)
class CoverageReport:
    """A coverage question answered: the analysis, any suggested sites, and its view."""

    answer: ParkingAnswer
    siting: Siting | None
    view: dict[str, Any]


def coverage_report(
    session: Session, snapshot: CommunitySnapshot, query: CoverageQuery
) -> CoverageReport:
    """Households covered by parking within the radius, now and in the scenario, with the
    ``suggest`` best new sites; for the API and the ``gridgov coverage`` report alike."""
    q = query  # short, for the many fields below
    added = [_parse_added(text, i) for i, text in enumerate(q.add, start=1)]
    question = _question(
        q.radius_m,
        q.mode,
        q.scenario,
        q.remove.split(","),
        added,
        q.crs,
        q.cars_per_household,
        snapshot,
    )
    buildings, parking = _layers(session)
    answer = _answer(snapshot, buildings, parking, question)
    siting = None
    if q.suggest:
        candidates = network_sites_in(snapshot)
        siting = _solve("mclp", snapshot, buildings, parking, question, candidates, q.suggest)
    return CoverageReport(answer, siting, answer_view(answer, buildings, siting))


def parking_coverage(
    session: Session, snapshot: CommunitySnapshot, query: CoverageQuery
) -> ParkingCoverage:
    """Households covered by parking within the radius, now and in the scenario.

    ``figures`` are the scenario's, ``before`` the open facilities' as they
    stand; ``curve`` gives both from 100 to 800 m; ``layers`` are GeoJSON.
    """
    return ParkingCoverage.model_validate(coverage_report(session, snapshot, query).view)


def parking_sites(session: Session, snapshot: CommunitySnapshot, body: SitesIn) -> ParkingSites:
    """Choose new sites: the ``p`` that cover most households (MCLP), and the
    fewest that cover every reachable home (LSCP), with the coverage each reaches.
    """
    added = [f.model_dump() for f in body.add]
    question = _question(
        body.radius_m,
        body.mode,
        body.scenario,
        body.remove,
        added,
        body.crs,
        body.cars_per_household,
        snapshot,
    )
    buildings, parking = _layers(session)
    if body.candidates is None:
        candidates = network_sites_in(snapshot, body.spacing_m)
        if len(candidates) > MAX_CANDIDATES:
            raise Invalid(
                "too_many_candidates",
                f"a spacing of {body.spacing_m:g} m gives {len(candidates)} sites; "
                f"at most {MAX_CANDIDATES} can be weighed, so use a wider spacing",
            )
    else:
        candidates = _points(
            [c.model_dump() for c in body.candidates], body.crs, snapshot, "candidate site"
        )
        candidates["id"] = [c.id or f"S{i:04d}" for i, c in enumerate(body.candidates, start=1)]
    if not len(candidates):
        raise Invalid("no_candidates", "there are no candidate sites to choose from")
    problems = ("mclp", "lscp") if body.problem == "both" else (body.problem,)
    out: dict[str, Any] = {
        "radius_m": body.radius_m,
        "mode": body.mode,
        "candidates": len(candidates),
    }
    for problem in problems:
        siting = _solve(problem, snapshot, buildings, parking, question, candidates, body.p)
        out[problem] = siting_view(siting)
    return ParkingSites.model_validate(out)


def network_sites_in(areas: CommunitySnapshot, spacing_m: float = 100.0) -> gpd.GeoDataFrame:
    """Candidate sites along the community's streets, inside the community."""
    if areas.network is None:
        raise Conflict(
            "no_streets", "no street layer is loaded; draw candidate sites or load streets"
        )
    return network_sites(areas.network, spacing_m, areas.outline)


def _question(
    radius_m: float,
    mode: str,
    scenario_name: str,
    remove: list[str],
    added: list[dict[str, Any]],
    crs: str,
    cars_per_household: float,
    areas: CommunitySnapshot,
) -> ParkingQuestion:
    if mode not in MODES:
        raise Invalid("bad_mode", f"mode {mode!r} is not one of {', '.join(MODES)}")
    if scenario_name not in SCENARIOS:
        raise Invalid(
            "bad_scenario", f"scenario {scenario_name!r} is not one of {', '.join(SCENARIOS)}"
        )
    if len(added) > MAX_ADDED:
        raise Invalid("too_many_added", f"at most {MAX_ADDED} facilities can be added")
    extra = _points(added, crs, areas, "added facility") if added else None
    return ParkingQuestion(
        radius_m=radius_m,
        mode=mode,
        scenario=scenario_name,
        remove=tuple(r.strip() for r in remove if r.strip()),
        add=extra,
        cars_per_household=cars_per_household,
    )


def _answer(
    areas: CommunitySnapshot,
    buildings: gpd.GeoDataFrame,
    parking: gpd.GeoDataFrame,
    q: ParkingQuestion,
) -> ParkingAnswer:
    try:
        return analyse(areas.network, buildings, parking, q)
    except CoverageInputError as exc:
        raise Invalid("bad_parking_question", str(exc)) from exc


def _solve(
    problem: str,
    areas: CommunitySnapshot,
    buildings: gpd.GeoDataFrame,
    parking: gpd.GeoDataFrame,
    q: ParkingQuestion,
    candidates: gpd.GeoDataFrame,
    p: int,
) -> Siting:
    try:
        return choose_sites(areas.network, buildings, parking, q, candidates, p, problem)
    except CoverageInputError as exc:
        raise Invalid("bad_parking_question", str(exc)) from exc
    except SitingError as exc:
        raise Failed("solver_failed", str(exc)) from exc


def _layers(session: Session) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    buildings = read_layer(session, "buildings")
    parking = read_layer(session, "parking")
    for name, frame in (("buildings", buildings), ("parking", parking)):
        if not len(frame):
            raise Conflict(
                f"no_{name}", f"no {name} layer is loaded; run 'gridgov load DIR' with one"
            )
    return buildings, parking


def _parse_added(text: str, n: int) -> dict[str, Any]:
    parts = [p.strip() for p in text.split(",")]
    try:
        lon, lat, capacity = float(parts[0]), float(parts[1]), int(parts[2])
    except (IndexError, ValueError):
        raise Invalid(
            "bad_added_facility",
            f"added facility {n} ({text!r}) must read 'lon,lat,capacity' or "
            "'lon,lat,capacity,smart'",
        ) from None
    if capacity < 0:
        raise Invalid("bad_added_facility", f"added facility {n} has {capacity} spaces")
    smart = len(parts) > 3 and parts[3].lower() in ("1", "true", "smart", "yes")
    return {"id": f"NEW{n}", "lon": lon, "lat": lat, "capacity": capacity, "smart": smart}


def _points(
    rows: list[dict[str, Any]], crs: str, areas: CommunitySnapshot, what: str
) -> gpd.GeoDataFrame:
    """Rows with lon/lat in ``crs`` as WGS84 points, each checked to lie in the community."""
    lon = np.array([r["lon"] for r in rows], dtype=float)
    lat = np.array([r["lat"] for r in rows], dtype=float)
    wlon, wlat = wgs84_points(lon, lat, crs, what)
    outside = np.atleast_1d(distance_to_m(wlon, wlat, areas.outline))
    far = outside > NEAR_COMMUNITY_M
    if far.any():
        i = int(np.argmax(far))
        raise Invalid(
            "outside_community",
            f"{what} {i + 1} at ({lon[i]:.6f}, {lat[i]:.6f}) lies {outside[i]:.0f} m outside "
            f"{areas.community_name or 'the community'}; place it within {NEAR_COMMUNITY_M:g} m",
        )
    props = [{k: v for k, v in r.items() if k not in ("lon", "lat")} for r in rows]
    return gpd.GeoDataFrame(props, geometry=shapely.points(wlon, wlat), crs=WGS84)
