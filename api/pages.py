"""HTML pages: the grid managers' map (at /), served with local assets only."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api.deps import LangDep, NowDep, SessionDep, snapshot_of
from cases.lifecycle import TRANSITIONS, Status
from layers.assets import localise
from layers.case_page import case_page, follow_page
from layers.manager_map import manager_map
from layers.page import page_html
from layers.parking_map import parking_map
from layers.report_page import report_page
from service.views import event_view, issue_view
from store.issues import (
    IssueNotFound,
    categories_by_code,
    get_issue,
    history,
    open_and_overdue_by_grid,
)
from store.layers import read_layer
from store.models import Category
from store.squads import squad_loads

router = APIRouter(tags=["pages"])
MAP_LAYERS = ("community", "grids", "districts", "merchants", "squads", "service_points", "parking")


def map_html(
    session: Session, now: datetime, lang: str, live: bool = True, tianditu_key: str = ""
) -> str:
    """The managers' map page, before its asset links are localised."""
    layers = {name: read_layer(session, name) for name in MAP_LAYERS}
    opened, late = open_and_overdue_by_grid(session, now)
    grids = layers["grids"]
    grids["open_cases"] = [opened.get(c, 0) for c in grids["code"]]
    grids["overdue_cases"] = [late.get(c, 0) for c in grids["code"]]
    loads = squad_loads(session)
    if len(layers["squads"]):
        layers["squads"]["load"] = [loads.get(s, 0) for s in layers["squads"]["id"]]
    fmap = manager_map(layers, lang=lang, live=live, tianditu_key=tianditu_key)
    return page_html(fmap, lang)


@router.get("/", response_class=HTMLResponse)
def map_page(request: Request, session: SessionDep, now: NowDep, lang: LangDep) -> HTMLResponse:
    """The grid managers' live map, Chinese by default (``?lang=en`` for English)."""
    if not read_layer(session, "grids").shape[0]:
        return HTMLResponse(
            "<!doctype html><p>No community data loaded yet. Run 'gridgov load DIR'.</p>",
            status_code=503,
        )
    settings = request.app.state.settings
    return HTMLResponse(localise(map_html(session, now, lang, tianditu_key=settings.tianditu_key)))


@router.get("/issues/{issue_id}", response_class=HTMLResponse)
def case_page_route(
    issue_id: int, request: Request, session: SessionDep, now: NowDep, lang: LangDep
) -> HTMLResponse:
    """A case's page: public fields for all; staff sign in with their token for the rest."""
    try:
        issue = get_issue(session, issue_id)
    except IssueNotFound:
        return HTMLResponse(f"<!doctype html><p>No case {issue_id}.</p>", status_code=404)
    areas = snapshot_of(request, session)
    view = issue_view(issue, areas, categories_by_code(session), now, staff=False)
    events = [event_view(e, staff=False) for e in history(session, issue_id)]
    moves: dict[str, list[str]] = {}
    for move in TRANSITIONS:
        moves.setdefault(move.source.value, []).append(move.target.value)
    moves[Status.REPORTED.value] = [*moves[Status.REPORTED.value], Status.DISPATCHED.value]
    unit = session.get(Category, issue.category)
    html = case_page(view, events, moves, lang, unit=unit.unit if unit else None)
    return HTMLResponse(localise(html))


@router.get("/report", response_class=HTMLResponse)
def report_form(
    request: Request,
    session: SessionDep,
    lang: LangDep,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
) -> HTMLResponse:
    """The phone page for reporting; ``?lon=&lat=&crs=gcj02`` opens it with the pin placed."""
    areas = snapshot_of(request, session)
    centre = areas.outline.centroid
    start = {"lon": lon, "lat": lat, "crs": crs} if lon is not None and lat is not None else None
    catalogue = [
        {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en}
        for c in sorted(categories_by_code(session).values(), key=lambda c: c.code)
    ]
    return HTMLResponse(localise(report_page((centre.x, centre.y), lang, start, catalogue)))


@router.get("/report/{issue_id}", response_class=HTMLResponse)
def report_status(
    issue_id: int, request: Request, session: SessionDep, now: NowDep, lang: LangDep
) -> HTMLResponse:
    """A reported case's progress, public fields only."""
    try:
        issue = get_issue(session, issue_id)
    except IssueNotFound:
        return HTMLResponse(f"<!doctype html><p>No case {issue_id}.</p>", status_code=404)
    view = issue_view(
        issue, snapshot_of(request, session), categories_by_code(session), now, staff=False
    )
    events = [event_view(e, staff=False) for e in history(session, issue_id)]
    return HTMLResponse(follow_page(issue_id, view, events, lang))


PLANNING_LAYERS = ("parking", "community", "streets", "compounds")


@router.get("/planning/parking", response_class=HTMLResponse)
def parking_page(request: Request, session: SessionDep, lang: LangDep) -> HTMLResponse:
    """The planner's parking coverage map; figures come from the API with a planner token."""
    context = {name: read_layer(session, name) for name in PLANNING_LAYERS}
    if not len(context["parking"]):
        return HTMLResponse(
            "<!doctype html><p>No parking layer loaded yet. Run 'gridgov load DIR'.</p>",
            status_code=503,
        )
    settings = request.app.state.settings
    fmap = parking_map(context, lang, tianditu_key=settings.tianditu_key)
    return HTMLResponse(localise(page_html(fmap, lang)))
