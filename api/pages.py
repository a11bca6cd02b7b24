"""HTML pages: the grid managers' map (at /), the case, report, follow and planning pages.

Each route takes its data from ``service.pages`` and draws it with ``layers``;
a service error on a page is answered as a short HTML page (``api/errors.py``).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import IssueId, LangDep, NowDep, SessionDep, SettingsDep, SnapshotDep
from api.errors import responses
from layers.assets import localise
from layers.case_page import case_page, follow_page
from layers.manager_map import manager_map
from layers.page import page_html
from layers.parking_map import parking_map
from layers.report_page import report_page
from service import pages

router = APIRouter(tags=["pages"])


@router.get("/", response_class=HTMLResponse)
def map_page(
    session: SessionDep, settings: SettingsDep, now: NowDep, lang: LangDep
) -> HTMLResponse:
    """The grid managers' live map, Chinese by default (``?lang=en`` for English)."""
    layers = pages.map_layers(session, now)
    fmap = manager_map(layers, lang=lang, live=True, tianditu_key=settings.tianditu_key)
    return HTMLResponse(localise(page_html(fmap, lang)))


@router.get("/issues/{issue_id}", response_class=HTMLResponse, responses=responses(404, 422))
def case_page_route(
    issue_id: IssueId, session: SessionDep, snapshot: SnapshotDep, now: NowDep, lang: LangDep
) -> HTMLResponse:
    """A case's page: public fields for all; staff sign in with their token for the rest."""
    story = pages.case_story(session, snapshot, issue_id, now)
    html = case_page(story.view, story.events, pages.page_moves(), lang, unit=story.escalation_unit)
    return HTMLResponse(localise(html))


@router.get("/report", response_class=HTMLResponse)
def report_form(
    session: SessionDep,
    snapshot: SnapshotDep,
    lang: LangDep,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
) -> HTMLResponse:
    """The phone page for reporting; ``?lon=&lat=&crs=gcj02`` opens it with the pin placed."""
    form = pages.report_form(session, snapshot)
    start = {"lon": lon, "lat": lat, "crs": crs} if lon is not None and lat is not None else None
    return HTMLResponse(localise(report_page(form.centre, lang, start, form.catalogue)))


@router.get("/report/{issue_id}", response_class=HTMLResponse, responses=responses(404, 422))
def report_status(
    issue_id: IssueId, session: SessionDep, snapshot: SnapshotDep, now: NowDep, lang: LangDep
) -> HTMLResponse:
    """A reported case's progress, public fields only."""
    story = pages.case_story(session, snapshot, issue_id, now)
    return HTMLResponse(follow_page(issue_id, story.view, story.events, lang))


@router.get("/planning/parking", response_class=HTMLResponse)
def parking_page(session: SessionDep, settings: SettingsDep, lang: LangDep) -> HTMLResponse:
    """The planner's parking coverage map; figures come from the API with a planner token."""
    layers = pages.planning_layers(session)
    fmap = parking_map(layers, lang, tianditu_key=settings.tianditu_key)
    return HTMLResponse(localise(page_html(fmap, lang)))
