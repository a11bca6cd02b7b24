"""HTML pages: the grid managers' map (at /), served with local assets only."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import LangDep, NowDep, SessionDep, snapshot_of
from cases.lifecycle import OPEN, TRANSITIONS, Status
from layers.assets import localise
from layers.case_page import case_page
from layers.manager_map import manager_map
from layers.page import page_html
from layers.parking_map import parking_map
from layers.report_page import report_page
from layers.text import REPORT_LABELS, STATUS_NAMES
from service.views import event_view, issue_view
from store.issues import IssueNotFound, categories_by_code, get_issue, history
from store.layers import read_layer
from store.models import Category, Issue
from store.squads import squad_loads

router = APIRouter(tags=["pages"])
MAP_LAYERS = ("community", "grids", "districts", "merchants", "squads", "service_points", "parking")


def grid_counts(session: Session, now: object) -> tuple[dict[str, int], dict[str, int]]:
    """Open and overdue cases per grid."""
    open_states = [s.value for s in OPEN]
    rows = session.execute(
        select(Issue.grid_code, func.count())
        .where(Issue.status.in_(open_states))
        .group_by(Issue.grid_code)
    ).all()
    late = session.execute(
        select(Issue.grid_code, func.count())
        .where(Issue.status.in_(open_states), Issue.due_at < now)
        .group_by(Issue.grid_code)
    ).all()
    return {g: int(n) for g, n in rows}, {g: int(n) for g, n in late}


def map_html(
    session: Session, now: object, lang: str, live: bool = True, tianditu_key: str = ""
) -> str:
    """The managers' map page, before its asset links are localised."""
    layers = {name: read_layer(session, name) for name in MAP_LAYERS}
    opened, late = grid_counts(session, now)
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
    names = STATUS_NAMES[lang]
    t = REPORT_LABELS[lang]
    steps = "".join(
        f"<li>{escape(e['at'] or '')} {escape(names.get(e['to'], e['to']))}</li>" for e in events
    )
    squad = view["squad"]["name"] if view["squad"] else t["waiting"]
    body = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(t['case_no'])} {issue_id}</title></head>"
        '<body style="font:16px sans-serif;padding:12px">'
        f"<h1>{escape(t['case_no'])} {issue_id}</h1>"
        f"<p>{escape(names.get(view['status'], view['status']))}</p>"
        f"<p>{escape(t['grid'])}: {escape(view['grid']['name'] or '')}</p>"
        f"<p>{escape(t['squad'])}: {escape(squad)}</p>"
        f'<p class="gg-description">{escape(view["description"])}</p><ol>{steps}</ol>'
        "</body></html>"
    )
    return HTMLResponse(body)


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
