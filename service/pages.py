"""The data behind each page: what the managers' map, the case page, the report page,
the follow page and the planner's map show. Rendering is ``layers``'s job; the
web routes and the ``gridgov`` command both start from these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy.orm import Session

from cases.areas import DEPLOYMENT, Level, common_area, contains, level_of, parent_of
from cases.deadlines import LOCAL
from cases.indicators import closure_rate
from cases.lifecycle import OPEN_STATUSES, TRANSITIONS, Status
from service.basemap import BasemapCache, Sketch, sketch_around
from service.community import CommunitySnapshot
from service.errors import NotFound, Unavailable
from service.issues import load_case
from service.scope import asked_area
from service.stats import period
from service.views import event_view, iso, issue_view
from store.catalogue import categories_for
from store.communities import community_codes
from store.issues import (
    CaseCounts,
    counts_by_community,
    history,
    open_and_overdue_by_grid,
)
from store.layers import read_layer
from store.squads import squad_loads

MAP_LAYERS = (
    "community",
    "grids",
    "districts",
    "merchants",
    "squads",
    "service_points",
    "parking",
    "compounds",
)
PLANNING_LAYERS = ("parking", "community", "streets", "compounds")
NOTHING_LOADED = "No community data loaded yet. Run 'gridgov load DIR'."


def map_layers(session: Session, community: str = "") -> dict[str, gpd.GeoDataFrame]:
    """The managers' map layers as loaded, ``community``'s features only when given (a
    community code); no case figures: the live page asks the API for those, so that
    it can be rendered once per version of the layers (``service.page_cache``).
    ``Unavailable`` while no grids are loaded."""
    layers = {name: read_layer(session, name, area=community) for name in MAP_LAYERS}
    if not len(layers["grids"]):
        raise Unavailable("no_community", NOTHING_LOADED)
    return layers


def with_case_figures(
    session: Session, layers: dict[str, gpd.GeoDataFrame], now: datetime, community: str = ""
) -> dict[str, gpd.GeoDataFrame]:
    """``layers`` (:func:`map_layers`) with the figures a page without the API shows (the
    static export): grids with their open and overdue counts at ``now``, squads with
    their load."""
    grids = layers["grids"].copy()
    opened, late = open_and_overdue_by_grid(session, now, community)
    grids["open_cases"] = [opened.get(c, 0) for c in grids["code"]]
    grids["overdue_cases"] = [late.get(c, 0) for c in grids["code"]]
    out = {**layers, "grids": grids}
    if len(layers["squads"]):
        loads = squad_loads(session)
        squads = layers["squads"].copy()
        squads["load"] = [loads.get(s, 0) for s in squads["id"]]
        out["squads"] = squads
    return out


def squads_at_work(session: Session) -> dict[str, int]:
    """Each squad's load: its open tasks (dispatched or in progress), by squad id; a
    squad with none is not listed.  What the live map's squad tooltips show."""
    return squad_loads(session)


@dataclass(frozen=True)
class CommunityMap:
    """The managers' map of one community.

    ``layers`` are :func:`map_layers` of the community (no case figures); ``up`` is the code and
    level of the area just above it (its street) when the deployment holds other
    communities, for a way back; ``focus`` the bounds of the grid asked for, if
    one was.
    """

    code: str
    layers: dict[str, gpd.GeoDataFrame]
    up: tuple[str, str] | None = None
    focus: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class AreaOverview:
    """The communities of a street, a district or the whole deployment.

    ``communities`` has one row per community, by code: ``code``, ``name`` (and
    ``name_en`` where the data has it) and its outline.  Their case figures are not
    here: the page asks the API for them (:func:`area_figures`).
    """

    area: str  # a street or district code, or "" for the whole deployment
    level: str  # "street", "district" or "deployment"
    communities: gpd.GeoDataFrame
    up: tuple[str, str] | None = None


def map_view(session: Session, area: str | None = None) -> CommunityMap | AreaOverview:
    """What the managers' map shows at ``area`` (a division code, as the page was asked).

    A community code (or a grid's, opening on that grid) is that community's
    map; a street or district code, or the whole deployment, is an overview of
    its communities.  Without an area the map shows the smallest area holding
    every loaded community: the one community's map, or the overview of the
    street (the district, the deployment) they share.

    Raises
    ------
    Invalid
        ``bad_area`` when ``area`` is not a division code.
    NotFound
        ``area_not_loaded`` when no community of the area (or no such grid) is loaded.
    Unavailable
        ``no_community`` when no community is loaded and no area was asked for.
    """
    code = asked_area(area)
    loaded = community_codes(session)
    if code == DEPLOYMENT:
        if not loaded:
            raise Unavailable("no_community", NOTHING_LOADED)
        code = common_area(loaded)
    if not any(contains(code, c) or contains(c, code) for c in loaded):
        raise NotFound("area_not_loaded", f"{_nothing_in(code)} is loaded")
    if code != DEPLOYMENT and level_of(code) in (Level.COMMUNITY, Level.GRID):
        return _community_map(session, code, loaded)
    return AreaOverview(
        area=code,
        level=level_of(code).value if code else "deployment",
        communities=_community_outlines(session, code, loaded),
        up=_up(code, loaded),
    )


def _nothing_in(code: str) -> str:
    """Words for no community at ``code``: 'no community 330206002099', 'no community of
    street 330206009'."""
    level = level_of(code)
    if level in (Level.COMMUNITY, Level.GRID):
        return f"no community {code[: Level.COMMUNITY.digits]}"
    return f"no community of {level} {code}"


def _up(code: str, loaded: list[str]) -> tuple[str, str] | None:
    """The code and level of the area above ``code`` (a community's street, a street's
    district) when the deployment holds a community outside ``code``: somewhere to go
    back up to."""
    above = parent_of(code) if code else None
    if above is None or all(contains(code, c) for c in loaded):
        return None
    return above, level_of(above).value


def _community_map(session: Session, code: str, loaded: list[str]) -> CommunityMap:
    """One community's map; a grid code opens it on that grid."""
    community = code[: Level.COMMUNITY.digits]
    layers = map_layers(session, community)
    focus = None
    if level_of(code) is Level.GRID:
        grid = layers["grids"][layers["grids"]["code"].astype(str) == code]
        if not len(grid):
            raise NotFound("area_not_loaded", f"no grid {code} is loaded")
        x0, y0, x1, y1 = (float(v) for v in grid.total_bounds)
        focus = (x0, y0, x1, y1)
    return CommunityMap(community, layers, _up(community, loaded), focus)


def _community_outlines(session: Session, area: str, loaded: list[str]) -> gpd.GeoDataFrame:
    """The communities of ``area`` with their outlines, by code; one loaded without a
    boundary is drawn as the union of its grids."""
    outlines = read_layer(session, "community", area=area)
    rows = [
        {**props, "code": str(props["code"]), "geometry": geometry}
        for props, geometry in zip(
            outlines.drop(columns="geometry").to_dict("records"), outlines.geometry, strict=True
        )
    ]
    drawn = {row["code"] for row in rows}
    for code in loaded:
        if contains(area, code) and code not in drawn:
            grids = read_layer(session, "grids", area=code)
            rows.append({"code": code, "name": code, "geometry": grids.union_all()})
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    return frame.sort_values("code").reset_index(drop=True)


@dataclass(frozen=True)
class AreaFigures:
    """The case figures of an area's communities, for its overview.

    ``communities`` has one row per loaded community of the area, by code:
    ``code``, ``open_cases`` and ``overdue_cases`` at ``now``, ``closed`` and ``due``
    of the cases reported in [``since``, ``until``), and their ``closure_rate``
    (None when nothing is due).
    """

    area: str
    communities: pd.DataFrame
    since: datetime
    until: datetime


def area_figures(session: Session, now: datetime, area: str | None = None) -> AreaFigures:
    """The figures of the communities the overview of ``area`` draws (as
    :func:`map_view` picks the area; the smallest holding them all when none is given).

    Counts come from one ``GROUP BY`` in the store; the closure rate is
    ``cases.indicators``'s rule.  Raises as :func:`map_view` does.
    """
    code = asked_area(area)
    loaded = community_codes(session)
    if code == DEPLOYMENT:
        if not loaded:
            raise Unavailable("no_community", NOTHING_LOADED)
        code = common_area(loaded)
    mine = [c for c in loaded if contains(code, c)]
    if not mine:
        raise NotFound("area_not_loaded", f"{_nothing_in(code)} is loaded")
    since, until = period(None, None, now)
    counts = counts_by_community(session, now, since, until, code)
    none = CaseCounts(0, 0, 0, 0)
    figures = [counts.get(c, none) for c in mine]
    frame = pd.DataFrame(
        {
            "code": mine,
            "open_cases": [f.open for f in figures],
            "overdue_cases": [f.overdue for f in figures],
            "closed": [f.closed for f in figures],
            "due": [f.due for f in figures],
        }
    )
    rates = closure_rate(frame["closed"], frame["due"])
    frame["closure_rate"] = [None if pd.isna(r) else float(r) for r in rates]
    return AreaFigures(code, frame, since, until)


@dataclass(frozen=True)
class CaseStory:
    """A case as the public sees it, and its history."""

    view: dict[str, Any]
    events: list[dict[str, Any]]
    escalation_unit: str | None
    now: str  # the server's clock (ISO UTC): pages measure ages from it, not the phone's


# the zone pages write times in: the community's (the working-day calendar's) own
PAGE_ZONE = LOCAL.key
# the statuses of a case not yet finished: what the managers' map shows at first
OPEN_STATUS_CODES = tuple(sorted(s.value for s in OPEN_STATUSES))


def case_story(
    session: Session, snapshot: CommunitySnapshot, issue_id: int, now: datetime
) -> CaseStory:
    """A case's public fields and history (staff fetch the rest with their token)."""
    issue = load_case(session, issue_id)
    categories = categories_for(session, issue.community_code)
    view = issue_view(issue, snapshot, categories, now, staff=False)
    events = [event_view(e, staff=False) for e in history(session, issue_id)]
    category = categories.get(issue.category)
    return CaseStory(view, events, category.unit if category else None, iso(now) or "")


def page_moves() -> dict[str, list[str]]:
    """The moves the case page offers from each status; a reported case may also be
    dispatched at once (filed on the way)."""
    moves: dict[str, list[str]] = {}
    for move in TRANSITIONS:
        moves.setdefault(move.source.value, []).append(move.target.value)
    moves[Status.REPORTED.value] = [*moves[Status.REPORTED.value], Status.DISPATCHED.value]
    return moves


@dataclass(frozen=True)
class ReportForm:
    """What the report page starts from: the community's centre and the catalogue:
    ``community``'s when the deployment holds one, else (``None``) the shared one."""

    centre: tuple[float, float]
    catalogue: list[dict[str, str]]
    community: str | None = None


def report_form(session: Session, snapshot: CommunitySnapshot) -> ReportForm:
    """The report page's starting point and its category buttons."""
    centre = snapshot.outline.centroid
    loaded = community_codes(session)
    community = loaded[0] if len(loaded) == 1 else None
    catalogue = [
        {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en}
        for c in sorted(categories_for(session, community).values(), key=lambda c: c.code)
        if c.offered
    ]
    return ReportForm((centre.x, centre.y), catalogue, community)


def planning_layers(session: Session) -> dict[str, gpd.GeoDataFrame]:
    """The planner's map layers; ``Unavailable`` while no parking layer is loaded."""
    layers = {name: read_layer(session, name) for name in PLANNING_LAYERS}
    if not len(layers["parking"]):
        raise Unavailable("no_parking", "No parking layer loaded yet. Run 'gridgov load DIR'.")
    return layers


def planning_areas(session: Session) -> list[str]:
    """The communities the parking facilities lie in (their codes), for the planner's
    map to draw without tiles; ``[""]`` (every community) when one was loaded with no
    community."""
    areas = read_layer(session, "parking", with_area=True)["area_code"]
    codes = {str(a)[: Level.COMMUNITY.digits] if isinstance(a, str) and a else "" for a in areas}
    return [""] if "" in codes or not codes else sorted(codes)


def case_sketch(session: Session, basemaps: BasemapCache, view: dict[str, Any]) -> Sketch | None:
    """The simplified layers around a case (its public ``view``), for the follow page's
    picture; ``None`` where no grid is loaded about it."""
    where = view["location"]
    grid = (view.get("grid") or {}).get("code")
    return sketch_around(session, basemaps, where["lon"], where["lat"], grid)
