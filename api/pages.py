"""HTML pages: the grid managers' map (at /, ``?area=`` a community's map or an overview
of a street's communities), the case, report, follow and planning pages, and the API's
documentation (``/docs``, ``/redoc``).

Each route takes its data from ``service.pages`` and draws it with ``layers``;
a service error on a page is answered as a short HTML page (``api/errors.py``).
Every page's scripts carry the answer's nonce (``api.limits.SecurityHeaders``).
"""

from __future__ import annotations

from typing import Annotated

import folium
from fastapi import APIRouter, Query, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from api.deps import (
    BasemapDep,
    IssueId,
    LangDep,
    NonceDep,
    NowDep,
    PageCacheDep,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    SnapshotDep,
)
from api.errors import responses
from api.kept_page import KeptPage
from api.limits import content_security_policy
from api.routes_issues import AREA
from cases.deadlines import parse_limit
from layers.area_map import area_map
from layers.assets import REDOC_JS, SWAGGER_CSS, SWAGGER_ICON, SWAGGER_JS, localise
from layers.case_page import case_page, follow_page
from layers.manager_map import manager_map
from layers.page import NONCE_SLOT, page_html, with_nonce
from layers.parking_map import parking_map
from layers.report_page import report_page
from service import pages
from service.community import layers_stamp
from service.settings import Settings

router = APIRouter(tags=["pages"])


def _page(html: str, nonce: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A page's answer: its CDN links pointed at the local copies (or refused), and the
    answer's nonce on every script, so that its Content-Security-Policy lets them run."""
    return HTMLResponse(with_nonce(localise(html), nonce), headers=headers)


@router.get("/", response_class=HTMLResponse, responses=responses(404, 422, 503))
def map_page(
    request: Request,
    session: ReadSessionDep,
    settings: SettingsDep,
    cache: PageCacheDep,
    lang: LangDep,
    nonce: NonceDep,
    area: Annotated[str | None, Query(description=AREA)] = None,
) -> HTMLResponse:
    """The grid managers' live map, Chinese by default (``?lang=en`` for English).

    ``?area=`` a community's (or a grid's) code: that community's map; a street's
    or a district's: its communities by their figures. By default, the smallest
    area that holds every loaded community.

    The page holds the layers and words only (its scripts ask the API for cases and
    figures; signing in is the browser's), so it is rendered once per version of
    the layers and key, kept (``service.page_cache``), and given this answer's nonce.
    """
    link_lang = lang if "lang" in request.query_params else None  # links keep ?lang=

    def render() -> KeptPage:
        view = pages.map_view(session, area)
        fmap = _map_of(view, lang, link_lang, settings, home=not area)
        return KeptPage.of(with_nonce(localise(page_html(fmap, lang)), NONCE_SLOT))

    key = (lang, link_lang, area, settings.tianditu_key)
    return _kept_answer(request, cache.get(layers_stamp(session), key, render), nonce)


def _kept_answer(request: Request, kept: KeptPage, nonce: str) -> HTMLResponse:
    """A kept page with this answer's nonce, gzip-compressed when the client takes it
    (compressed once for all answers: ``GZipMiddleware`` leaves it as it is)."""
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return HTMLResponse(kept.gzipped(nonce), headers=headers)
    return HTMLResponse(kept.text(nonce), headers={"Vary": "Accept-Encoding"})


def _map_of(
    view: pages.CommunityMap | pages.AreaOverview,
    lang: str,
    link_lang: str | None,
    settings: Settings,
    home: bool,
) -> folium.Map:
    """A community's live map, or the overview of an area's communities; at the default
    area (``home``), a signed-in user's page moves on to their own area."""
    if isinstance(view, pages.AreaOverview):
        return area_map(
            view.communities,
            view.area,
            view.level,
            lang,
            link_lang=link_lang,
            up=view.up,
            home=home,
            tianditu_key=settings.tianditu_key,
        )
    return manager_map(
        view.layers,
        lang=lang,
        live=True,
        tianditu_key=settings.tianditu_key,
        area=view.code,
        up=view.up,
        focus=view.focus,
        link_lang=link_lang,
        home=home,
        tz=pages.PAGE_ZONE,
        open_statuses=pages.OPEN_STATUS_CODES,
    )


@router.get("/issues/{issue_id}", response_class=HTMLResponse, responses=responses(404, 422))
def case_page_route(
    issue_id: IssueId,
    session: SessionDep,
    snapshot: SnapshotDep,
    now: NowDep,
    lang: LangDep,
    nonce: NonceDep,
) -> HTMLResponse:
    """A case's page: public fields for all; staff sign in with their token for the rest."""
    story = pages.case_story(session, snapshot, issue_id, now)
    html = case_page(
        story.view,
        story.events,
        pages.page_moves(),
        lang,
        unit=story.escalation_unit,
        now=story.now,
        tz=pages.PAGE_ZONE,
        open_statuses=pages.OPEN_STATUS_CODES,
    )
    return _page(html, nonce)


@router.get("/report", response_class=HTMLResponse)
def report_form(
    session: SessionDep,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    lang: LangDep,
    nonce: NonceDep,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
) -> HTMLResponse:
    """The phone page for reporting; ``?lon=&lat=&crs=gcj02`` opens it with the pin placed."""
    form = pages.report_form(session, snapshot)
    start = {"lon": lon, "lat": lat, "crs": crs} if lon is not None and lat is not None else None
    html = report_page(
        form.centre,
        lang,
        start,
        form.catalogue,
        community=form.community,
        file_limit=parse_limit(settings.file_limit),
    )
    return _page(html, nonce)


@router.get("/report/{issue_id}", response_class=HTMLResponse, responses=responses(404, 422))
def report_status(
    issue_id: IssueId,
    session: SessionDep,
    basemaps: BasemapDep,
    snapshot: SnapshotDep,
    now: NowDep,
    lang: LangDep,
    nonce: NonceDep,
) -> HTMLResponse:
    """A reported case's progress, public fields only, with a picture of where it is."""
    story = pages.case_story(session, snapshot, issue_id, now)
    around = pages.case_sketch(session, basemaps, story.view)
    html = follow_page(
        issue_id, story.view, story.events, lang, now=story.now, tz=pages.PAGE_ZONE, around=around
    )
    return _page(html, nonce)


@router.get("/planning/parking", response_class=HTMLResponse)
def parking_page(
    session: SessionDep, settings: SettingsDep, lang: LangDep, nonce: NonceDep
) -> HTMLResponse:
    """The planner's parking coverage map; figures come from the API with a planner token."""
    layers = pages.planning_layers(session)
    areas = pages.planning_areas(session)
    fmap = parking_map(layers, lang, tianditu_key=settings.tianditu_key, basemap=areas)
    return _page(page_html(fmap, lang), nonce)


@router.get("/docs", include_in_schema=False)
def swagger_ui(request: Request, nonce: NonceDep) -> HTMLResponse:
    """The API's documentation to try it out (Swagger UI), from gridgov's own copy."""
    page = get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"/vendor/{SWAGGER_JS}",
        swagger_css_url=f"/vendor/{SWAGGER_CSS}",
        swagger_favicon_url=f"/vendor/{SWAGGER_ICON}",
    )
    return _page(bytes(page.body).decode(), nonce)


@router.get("/redoc", include_in_schema=False)
def redoc(request: Request, nonce: NonceDep) -> HTMLResponse:
    """The API's documentation to read (ReDoc), from gridgov's own copy; its search runs in
    a web worker it starts from a ``blob:`` address, which its policy allows."""
    page = get_redoc_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"/vendor/{REDOC_JS}",
        redoc_favicon_url=f"/vendor/{SWAGGER_ICON}",
        with_google_fonts=False,
    )
    policy = content_security_policy(nonce, workers=True)
    return _page(bytes(page.body).decode(), nonce, {"content-security-policy": policy})
